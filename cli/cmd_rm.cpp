// imgbuild rm [-f] [-v] CONTAINER...: removes containers (their upper layer, mount, cgroup, state).
// A running one needs -f (SIGKILL first), and so does one whose record is unreadable. Also cleans
// up after an imgbuild that was killed. -v also removes the container's anonymous volumes.
#include <cstdio>

#include "cli/command.h"
#include "containers/remove.h"

namespace imgbuild::cli {
namespace {

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  auto volumes = std::make_shared<bool>(false);
  sub.add_flag("-v,--volumes", *volumes, "Remove anonymous volumes associated with the container");
  sub.add_flag("-f,--force", *force, "Force the removal of a running container (SIGKILL)");
  sub.add_option("containers", *names, "Containers")->required();
  return [=, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    int rc = 0;
    for (const auto& name : *names) {
      auto st = containers::remove_container(
          *store, name, *force ? containers::RemoveForce::kYes : containers::RemoveForce::kNo,
          *volumes ? containers::RemoveVolumes::kAnonymous : containers::RemoveVolumes::kKeep);
      if (!st) {
        rc = report_error(st.error());
        continue;
      }
      std::printf("%s\n", name.c_str());
    }
    return rc;
  };
}

}  // namespace

IMGBUILD_COMMAND(rm, Command{
                         .name = "rm",
                         .description = "Remove one or more containers",
                         .setup = setup,
                     });

}  // namespace imgbuild::cli
