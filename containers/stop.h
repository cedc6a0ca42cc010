// Stopping a container: the signal to its pid 1 (`stop`, `kill`, `rm -f`), then waiting for its
// monitor to record the exit; waiting for that exit (`wait`).
#pragma once

#include <chrono>

#include "containers/record.h"
#include "image/store.h"

namespace imgbuild::containers {

// True when the recorded pid 1 still belongs to this container's cgroup (pids get reused): only
// then may it be signalled or joined.
bool pid_belongs(const ContainerRecord& record);

// Marks the container stopped by the user (its monitor restarts it no more), sends sig to its
// pid 1 (after checking that pid still belongs to this container's cgroup) and waits up to timeout
// for the monitor to finish; then SIGKILL and wait again. Returns once the container is neither
// running nor restarting.
Status stop_container(const image::Store& store, const ContainerRecord& record, int sig,
                      std::chrono::milliseconds timeout);

// `kill`: a manual stop (the restart policy ends, as Docker), then sig to pid 1 of a running
// container. A restarting one has no process to signal: marked stopped only. kInvalidArgument
// "cannot kill container: NAME: container ID is not running" otherwise.
Status kill_container(const image::Store& store, const std::string& name,
                      const ContainerRecord& record, int sig);

// Sleeps for delay (a restart's backoff) unless a stop is requested meanwhile; true when it was.
bool sleep_unless_stopped(const image::Store& store, const std::string& id,
                          std::chrono::milliseconds delay);

// Polls the record until the container is neither running nor restarting; returns its exit
// code. A record removed meanwhile (--rm) leaves the last state seen.
int wait_for_exit(const image::Store& store, ContainerRecord record);

}  // namespace imgbuild::containers
