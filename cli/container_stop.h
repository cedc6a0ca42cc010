// Stopping a running container (used by `stop` and `rm -f`): the signal to its pid 1, then
// waiting for its monitor to record the exit.
#pragma once

#include <chrono>

#include "cli/container_state.h"

namespace imgbuild::cli {

// True when the recorded pid 1 still belongs to this container's cgroup (pids get reused): only
// then may it be signalled or joined.
bool pid_belongs(const ContainerRecord& record);

// Marks the container stopped by the user (its monitor restarts it no more), sends sig to its
// pid 1 (after checking that pid still belongs to this container's cgroup) and waits up to timeout
// for the monitor to finish; then SIGKILL and wait again. Returns once the container is neither
// running nor restarting.
Status stop_container(const image::Store& store, const ContainerRecord& record, int sig,
                      std::chrono::milliseconds timeout);

}  // namespace imgbuild::cli
