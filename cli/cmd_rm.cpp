// imgbuild rm [-f] [-v] CONTAINER...: removes containers (their upper layer, mount, cgroup, state).
// A running one needs -f (SIGKILL first), and so does one whose record is unreadable. Also cleans
// up after an imgbuild that was killed. -v also removes the container's anonymous volumes.
#include <signal.h>

#include <cstdio>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/container_extras.h"
#include "cli/container_stop.h"

namespace imgbuild::cli {
namespace {

// An unreadable record may belong to a running container: only -f removes it, killing whatever
// is left in its cgroup, as for a running one.
Status remove_unreadable(const image::Store& store, const std::string& name,
                         const UnreadableRecord& u, bool force) {
  if (!force) {
    return fail(u.cause.kind(), "cannot remove container \"" + name + "\": its record " +
                                    fs::join(container_dir(store, u.id), "state.json") +
                                    " is unreadable (" + u.cause.message() +
                                    "), so whether it is running is unknown: force remove (rm "
                                    "-f) to remove it anyway");
  }
  return remove_container_files(store, u.id);
}

Status remove_one(const image::Store& store, const std::string& name, bool force, bool volumes) {
  auto found = TRY(find_any_record(store, name));
  if (auto* u = std::get_if<UnreadableRecord>(&found))
    return remove_unreadable(store, name, *u, force);
  ContainerRecord& record = std::get<ContainerRecord>(found);
  if (is_active(record)) {
    if (!force) {
      return fail(ErrorKind::kInvalidArgument,
                  "cannot remove container \"" + name +
                      "\": container is running: stop the container before removing or force "
                      "remove");
    }
    TRY(stop_container(store, record, SIGKILL, std::chrono::seconds(10)));
  }
  TRY(remove_container_files(store, record));
  if (volumes) TRY(remove_anonymous_volumes(store, record));
  return {};
}

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
      auto st = remove_one(*store, name, *force, *volumes);
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
