// The detached monitor's health-check thread: while a container runs, runs its probe every
// interval (the first one interval after the start, as Docker), adds each result to the
// HealthState (containers/health_check.h) and hands every new state to publish, from the
// prober's own thread. The state starts as "starting" and is published once at construction.
//
// Destruction stops the thread and joins it: call it once the container has exited (a probe still
// running then has died with the container's pid namespace, and its result is dropped).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "containers/health_check.h"
#include "runtime/container.h"

namespace imgbuild::containers {

class HealthMonitor {
 public:
  using Publish = std::function<void(const HealthState&)>;

  HealthMonitor(pid_t container_pid, runtime::ProcessSpec container, HealthConfig config,
                Publish publish);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

 private:
  void run(std::stop_token stop);

  pid_t container_pid_;
  runtime::ProcessSpec container_;
  HealthConfig config_;
  Publish publish_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: started once the members above exist
};

}  // namespace imgbuild::containers
