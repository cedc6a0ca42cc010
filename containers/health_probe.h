// Running one health-check probe in a running container, as `exec` runs a process there (its
// namespaces and cgroup, the container's user, capabilities, seccomp filter, env and working
// directory), with stdout and stderr captured together and a deadline: a probe still running at
// the timeout is killed and reported as Docker does (exit code -1, "Health check exceeded timeout
// (30s)"). A probe that cannot be started is a failed result (-1, the error), never an Error.
// Blocks for at most the timeout (plus the kill); call it from the monitor's health thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "containers/health_check.h"
#include "runtime/container.h"

namespace imgbuild::containers {

HealthResult run_health_probe(pid_t container_pid, const runtime::ProcessSpec& container,
                              const std::vector<std::string>& command,
                              std::chrono::milliseconds timeout);

// Now as RFC 3339 with nanoseconds (UTC), as Docker's health log times.
std::string rfc3339_nano_now();

}  // namespace imgbuild::containers
