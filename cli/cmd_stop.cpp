// imgbuild stop [-t SECONDS] [-s SIGNAL] CONTAINER...: the container's stop signal (--stop-signal,
// else the image's StopSignal, default SIGTERM), then SIGKILL after the timeout (-t, else the
// container's --stop-timeout, default 10 s), as Docker does.
#include <signal.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/container_each.h"
#include "containers/stop.h"

namespace imgbuild::cli {
namespace {

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto seconds = std::make_shared<int>(10);
  auto signal = std::make_shared<std::string>();
  auto* time =
      sub.add_option("-t,--time", *seconds, "Seconds to wait before killing the container");
  sub.add_option("-s,--signal", *signal, "Signal to send (default: the image's StopSignal)");
  sub.add_option("containers", *names, "Containers")->required();
  return [=, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    return for_each_container(
        *store, *names, [&](const std::string& name, ContainerRecord& record) -> Status {
          std::string sig_name = !signal->empty() ? *signal : record.stop_signal;
          int sig = sig_name.empty() ? SIGTERM : TRY(parse_signal(sig_name));
          // The container's --stop-timeout unless -t is given.
          int wait_s =
              time->count() == 0 && record.stop_timeout >= 0 ? record.stop_timeout : *seconds;
          TRY(containers::stop_container(*store, record, sig,
                                         std::chrono::milliseconds(std::max(0, wait_s) * 1000)));
          std::printf("%s\n", name.c_str());
          return {};
        });
  };
}

}  // namespace

IMGBUILD_COMMAND(stop, Command{
                           .name = "stop",
                           .description = "Stop one or more running containers",
                           .setup = setup,
                       });

}  // namespace imgbuild::cli
