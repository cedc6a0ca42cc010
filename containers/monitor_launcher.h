// How the engine starts a detached container's monitor (containers/monitor.h), behind an
// interface so that the lifecycle (start, stop, remove) is tested with a fake monitor.
//
// The ready protocol: the monitor writes one line to its ready pipe, "0 ok" once the container's
// process runs, or "<exit code> <message>" when it could not start it (Docker's codes: 125, 126,
// 127), and closes it.
#pragma once

#include <string>

#include "base/error.h"
#include "image/store.h"

namespace imgbuild::containers {

struct MonitorReady {
  int code = 0;         // 0: running
  std::string message;  // why it failed to start (code != 0)
};

// "<code> <message>" as the monitor writes it; kRuntime "the container monitor exited early"
// for an empty reply.
Result<MonitorReady> parse_monitor_ready(std::string_view reply);

class MonitorLauncher {
 public:
  virtual ~MonitorLauncher() = default;
  // Starts the monitor of the container `id` (its record saved in store) and returns its ready
  // reply. An error when the monitor could not be started or exited without replying.
  virtual Result<MonitorReady> launch(const image::Store& store, const std::string& id) = 0;
};

// The real monitor: a new session with stdio on /dev/null, running
// `EXE --root ROOT container-monitor ID --ready-fd 3` (the CLI's hidden command that calls
// monitor_container) with the ready pipe as fd 3. The process outlives its starter.
class ExecMonitorLauncher final : public MonitorLauncher {
 public:
  explicit ExecMonitorLauncher(std::string exe = "/proc/self/exe") : exe_(std::move(exe)) {}
  Result<MonitorReady> launch(const image::Store& store, const std::string& id) override;

 private:
  std::string exe_;
};

}  // namespace imgbuild::containers
