// imgbuild logs [-f] CONTAINER: prints a detached container's output (stdout and stderr as they
// were interleaved); -f keeps following until the container stops.
#include "base/sys.h"
#include "cli/command.h"
#include "cli/container_state.h"
#include "containers/log_follow.h"

namespace imgbuild::cli {
namespace {

Status logs(const GlobalOptions& globals, const std::string& name, bool follow) {
  auto store = TRY(image::Store::open(globals.root));
  ContainerRecord record = TRY(find_record(store, name));
  return containers::copy_log(
      store, record, follow ? containers::LogFollow::kYes : containers::LogFollow::kNo,
      [](std::string_view bytes) { return sys::write_all(1, bytes, "stdout"); });
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto name = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  sub.add_flag("-f,--follow", *follow, "Follow log output");
  sub.add_option("container", *name, "Container name or ID")->required();
  return [=, &globals]() -> int {
    auto r = logs(globals, *name, *follow);
    if (!r) return report_error(r.error());
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(logs, Command{
                           .name = "logs",
                           .description = "Fetch the logs of a container",
                           .setup = setup,
                       });

}  // namespace imgbuild::cli
