// imgbuild container prune [-f]: removes every stopped container, as `docker container prune`
// (asks first unless -f). A container whose record is unreadable is reported, not removed.
#include <unistd.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/container_state.h"
#include "cli/image_common.h"
#include "containers/disk_usage.h"

namespace imgbuild::cli {
namespace {

int prune(const GlobalOptions& globals, bool force) {
  if (!force && !confirm("This will remove all stopped containers.")) return 0;
  auto store = image::Store::open(globals.root);
  if (!store) return report_error(store.error());
  std::vector<std::string> deleted;
  uint64_t reclaimed = 0;
  int rc = 0;
  auto list = list_records(*store);
  if (!list) return report_error(list.error().with_context("container prune"));
  // Docker prunes only containers it knows are stopped; an unreadable one might be running, so
  // it is reported (exit status 1) and left for rm -f.
  for (const auto& u : list->unreadable) {
    Error e = u.error(*store);
    rc = report_error(Error(e.kind(), "container prune: skipped " + e.message() +
                                          " (remove it with imgbuild rm -f " + u.id + ")"));
  }
  for (const auto& record : list->records) {
    if (is_active(record)) continue;
    uint64_t size = containers::tree_bytes(container_dir(*store, record.id) + "/upper");
    if (auto st = remove_container_files(*store, record); !st) {
      rc = report_error(st.error().with_context("removing container " + record.id));
      continue;
    }
    deleted.push_back(record.id);
    reclaimed += size;
  }
  print_prune_report("Deleted Containers", deleted, reclaimed);
  return rc;
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto force = std::make_shared<bool>(false);
  auto* prune_cmd = sub.add_subcommand("prune", "Remove all stopped containers");
  prune_cmd->add_flag("-f,--force", *force, "Do not prompt for confirmation");
  sub.require_subcommand(1);
  return [=, &globals]() -> int {
    if (prune_cmd->parsed()) return prune(globals, *force);
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(container, Command{
                                .name = "container",
                                .description = "Manage containers (container prune)",
                                .setup = setup,
                            });

}  // namespace imgbuild::cli
