// imgbuild container-monitor ID --ready-fd N (internal, started by `run -d` and `start` through
// containers::ExecMonitorLauncher): the process containers/monitor.h describes.
#include "cli/command.h"
#include "containers/monitor.h"

namespace imgbuild::cli {
namespace {

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto id = std::make_shared<std::string>();
  auto ready_fd = std::make_shared<int>(-1);
  sub.group("");  // hidden from help
  sub.add_option("id", *id)->required();
  sub.add_option("--ready-fd", *ready_fd);
  return [id, ready_fd, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error(), 125);
    return containers::monitor_container(*store, *id, *ready_fd);
  };
}

}  // namespace

IMGBUILD_COMMAND(container_monitor, Command{
                                        .name = "container-monitor",
                                        .description = "Internal: monitor of a detached container",
                                        .setup = setup,
                                    });

}  // namespace imgbuild::cli
