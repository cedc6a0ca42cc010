// imgbuild prune: removes untagged images and every blob and unpacked layer that no tag,
// container, mount or build cache record reaches; prints what went and the space reclaimed.
#include <cstdio>

#include "cli/command.h"
#include "cli/image_common.h"

namespace imgbuild::cli {
namespace {

struct PruneArgs {
  bool force = false;
};

Result<int> run_prune(const GlobalOptions& globals) {
  image::Store store = TRY(open_store(globals));
  image::PruneReport report = TRY(store.prune(image::PruneMode::kDanglingAndUnreferenced));
  for (const auto& d : report.untagged_images) std::printf("untagged image: %s\n", d.str().c_str());
  for (const auto& d : report.blobs) std::printf("deleted blob: %s\n", d.str().c_str());
  for (const auto& d : report.layers) std::printf("deleted layer: %s\n", d.str().c_str());
  std::printf("Total reclaimed space: %s\n", human_size(report.reclaimed_bytes).c_str());
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(prune, Command{
                            .name = "prune",
                            .description = "Remove untagged images and unreferenced content",
                            .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                              auto args = std::make_shared<PruneArgs>();
                              sub.add_flag("-f,--force", args->force,
                                           "Accepted for compatibility (prune never prompts)");
                              return [args, &globals] {
                                auto r = run_prune(globals);
                                if (!r) return report_error(r.error());
                                return *r;
                              };
                            },
                        });

}  // namespace imgbuild::cli
