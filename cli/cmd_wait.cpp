// imgbuild wait CONTAINER...: blocks until each container stops, then prints its exit code, as
// `docker wait`.
#include <cstdio>

#include "cli/command.h"
#include "cli/container_each.h"
#include "containers/stop.h"

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
                                std::printf("%d\n", containers::wait_for_exit(*store, record));
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
