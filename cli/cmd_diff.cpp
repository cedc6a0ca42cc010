// imgbuild diff CONTAINER: the container's changes to its image's filesystem, as `docker diff`
// ("A /new", "C /changed", "D /deleted"), read from its upper directory (containers/upper_diff.h).
#include <cstdio>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/container_state.h"
#include "containers/upper_diff.h"

namespace imgbuild::cli {
namespace {

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto name = std::make_shared<std::string>();
  sub.add_option("CONTAINER", *name, "Container")->required();
  return [=, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    auto record = find_record(*store, *name);
    if (!record) return report_error(record.error());
    auto changes = containers::upper_changes(fs::join(container_dir(*store, record->id), "upper"),
                                             record->lowers);
    if (!changes) return report_error(changes.error().with_context("diff " + *name));
    for (const auto& c : *changes) std::printf("%c %s\n", c.kind, c.path.c_str());
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(diff, Command{
                           .name = "diff",
                           .description = "Inspect changes to files on a container's filesystem",
                           .setup = setup,
                       });

}  // namespace imgbuild::cli
