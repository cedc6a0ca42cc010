// imgbuild start [-a] [-i] CONTAINER...: starts created or exited containers, as `docker start`:
// detached under a monitor (as `run -d`), printing each name; with -a (or -i) one container runs
// attached to this terminal (as a foreground `run`: output, signals forwarded, -i stdin) and its
// exit code is returned. The container keeps its writable layer, its log and its settings.
#include <cstdio>

#include "cli/command.h"
#include "cli/container_state.h"
#include "containers/launch.h"

namespace imgbuild::cli {
namespace {

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
    containers::ExecMonitorLauncher launcher;
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
      if (auto ready = containers::prepare_start(*store, *record); !ready) {
        rc = report_error(ready.error().with_context("starting container " + name));
        continue;
      }
      if (attached) {
        return containers::run_foreground(*store, std::move(*record), *interactive, nullptr,
                                          [](const Error& e) { report_error(e); });
      }
      if (auto started = containers::start_detached(*store, *record, launcher); !started) {
        report_error(started.error().error);
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
