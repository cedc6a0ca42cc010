#include "containers/health_monitor.h"

#include "containers/health_probe.h"

namespace imgbuild::containers {

HealthMonitor::HealthMonitor(pid_t container_pid, runtime::ProcessSpec container,
                             HealthConfig config, Publish publish)
    : container_pid_(container_pid),
      container_(std::move(container)),
      config_(std::move(config)),
      publish_(std::move(publish)) {
  publish_(HealthState{});
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

HealthMonitor::~HealthMonitor() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void HealthMonitor::run(std::stop_token stop) {
  HealthState state;
  auto started = std::chrono::steady_clock::now();
  std::vector<std::string> command = config_.command();
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // Wakes at the interval or as soon as a stop is requested.
      wake_.wait_for(lock, stop, config_.interval(), [] { return false; });
      if (stop.stop_requested()) return;
    }
    auto probe_start = std::chrono::steady_clock::now();
    HealthResult result = run_health_probe(container_pid_, container_, command, config_.timeout());
    if (stop.stop_requested()) return;
    state.add(std::move(result), probe_start - started < config_.start_period(),
              config_.effective_retries());
    publish_(state);
  }
}

}  // namespace imgbuild::containers
