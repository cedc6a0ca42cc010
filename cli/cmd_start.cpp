// imgbuild start [-a] [-i] CONTAINER...: starts created or exited containers, as `docker start`:
// detached under a monitor (as `run -d`), printing each name; with -a (or -i) one container runs
// attached to this terminal (as a foreground `run`: output, signals forwarded, -i stdin) and its
// exit code is returned. The container keeps its writable layer, its log and its settings.
#include <cstdio>

#include "cli/command.h"
#include "cli/container_launch.h"
#include "fs/mount.h"

namespace imgbuild::cli {
namespace {

// The record made ready for another run: no stop request left, a fresh restart count (Docker
// gives every start a new restart manager), no mount left by a monitor that died.
Status prepare_start(const image::Store& store, ContainerRecord& record) {
  TRY(clear_stop_request(store, record.id));
  if (record.status != ContainerStatus::kCreated) {
    auto unmounted = fs::force_unmount(container_rootfs(store, record.id));
    if (!unmounted && unmounted.error().kind() != ErrorKind::kNotFound) return unmounted;
  }
  record.restart_count = 0;
  return save_record(store, record);
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto attach = std::make_shared<bool>(false);
  auto interactive = std::make_shared<bool>(false);
  sub.add_flag("-a,--attach", *attach, "Attach stdout/stderr and forward signals");
  sub.add_flag("-i,--interactive", *interactive, "Attach the container's stdin");
  sub.add_option("containers", *names, "Containers")->required();
  return [=, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    bool attached = *attach || *interactive;
    if (attached && names->size() > 1) {
      return report_error(Error(ErrorKind::kInvalidArgument,
                                "you cannot start and attach multiple containers at once"));
    }
    int rc = 0;
    for (const auto& name : *names) {
      auto record = find_record(*store, name);
      if (!record) {
        rc = report_error(record.error());
        continue;
      }
      if (is_active(*record)) {
        // Docker: starting a running container does nothing.
        if (!attached) std::printf("%s\n", name.c_str());
        continue;
      }
      if (auto ready = prepare_start(*store, *record); !ready) {
        rc = report_error(ready.error().with_context("starting container " + name));
        continue;
      }
      if (attached) return run_foreground(*store, std::move(*record), *interactive);
      if (start_detached(*store, *record) != 0) {
        rc = 1;
        continue;
      }
      std::printf("%s\n", name.c_str());
      std::fflush(stdout);
    }
    return rc;
  };
}

}  // namespace

IMGBUILD_COMMAND(start, Command{
                            .name = "start",
                            .description = "Start one or more stopped containers",
                            .setup = setup,
                        });

}  // namespace imgbuild::cli
