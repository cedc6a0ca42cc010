// imgbuild kill [-s SIGNAL] CONTAINER...: sends a signal (default SIGKILL) to each container's
// pid 1, as `docker kill`. A pid 1 ignores signals it has no handler for (SIGKILL excepted).
#include <signal.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/container_each.h"
#include "containers/stop.h"

namespace imgbuild::cli {
namespace {

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto signal = std::make_shared<std::string>("KILL");
  sub.add_option("-s,--signal", *signal, "Signal to send (name or number; default KILL)");
  sub.add_option("containers", *names, "Containers")->required();
  return [=, &globals]() -> int {
    auto sig = parse_signal(*signal);
    if (!sig) return report_error(sig.error());
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    return for_each_container(*store, *names,
                              [&](const std::string& name, ContainerRecord& record) -> Status {
                                TRY(containers::kill_container(*store, name, record, *sig));
                                std::printf("%s\n", name.c_str());
                                return {};
                              });
  };
}

}  // namespace

IMGBUILD_COMMAND(kill, Command{
                           .name = "kill",
                           .description = "Kill one or more running containers",
                           .setup = setup,
                       });

}  // namespace imgbuild::cli
