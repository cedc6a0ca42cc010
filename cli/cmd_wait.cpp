// imgbuild wait CONTAINER...: blocks until each container stops, then prints its exit code, as
// `docker wait`.
#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "cli/container_each.h"

namespace imgbuild::cli {
namespace {

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  sub.add_option("containers", *names, "Containers")->required();
  return [=, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    return for_each_container(*store, *names,
                              [&](const std::string&, ContainerRecord& record) -> Status {
                                // The monitor records the exit; there is nothing to wait on but the
                                // record.
                                while (is_active(record)) {
                                  std::this_thread::sleep_for(std::chrono::milliseconds(50));
                                  auto now = load_record(*store, record.id);
                                  if (!now) break;  // removed (--rm): the last state seen stands
                                  record = std::move(*now);
                                }
                                std::printf("%d\n", is_active(record) ? 0 : record.exit_code);
                                std::fflush(stdout);
                                return {};
                              });
  };
}

}  // namespace

IMGBUILD_COMMAND(wait, Command{
                           .name = "wait",
                           .description = "Block until containers stop, then print exit codes",
                           .setup = setup,
                       });

}  // namespace imgbuild::cli
