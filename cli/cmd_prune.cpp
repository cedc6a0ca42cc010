// imgbuild prune [-a] (also `image prune`): removes untagged images and every blob and unpacked
// layer that no tag, container, mount or build cache record reaches; prints what went and the
// space reclaimed. -a first removes every image no container was created from, as `docker image
// prune -a`. Volumes (volumes/) are never touched.
#include <cstdio>
#include <set>

#include "cli/command.h"
#include "cli/container_state.h"
#include "cli/image_common.h"

namespace imgbuild::cli {
namespace {

struct PruneArgs {
  bool force = false;
  bool all = false;
};

// -a: removes the index entries of every image no container record names.
Status remove_unused_images(const image::Store& store) {
  std::set<std::string> used;
  for (const auto& c : TRY(list_records(store)).records) used.insert(c.manifest_digest);
  for (const auto& img : TRY(store.list_images())) {
    if (used.contains(img.manifest_digest.str())) continue;
    for (const auto& ref : img.tags) std::printf("untagged: %s\n", ref.familiar().c_str());
    TRY(store.remove_image(img.index_digest ? *img.index_digest : img.manifest_digest));
  }
  return {};
}

Result<int> run_prune(const GlobalOptions& globals, const PruneArgs& args) {
  image::Store store = TRY(open_store(globals));
  if (args.all) TRY(remove_unused_images(store));
  image::PruneReport report = TRY(store.prune(image::PruneMode::kDanglingAndUnreferenced));
  for (const auto& d : report.untagged_images) std::printf("untagged image: %s\n", d.str().c_str());
  for (const auto& d : report.blobs) std::printf("deleted blob: %s\n", d.str().c_str());
  for (const auto& d : report.layers) std::printf("deleted layer: %s\n", d.str().c_str());
  for (const auto& d : report.lazy_layers) {
    std::printf("deleted lazily fetched layer: %s\n", d.str().c_str());
  }
  for (const auto& d : report.partial_blobs) {
    std::printf("deleted partial blob: %s\n", d.str().c_str());
  }
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
                              sub.add_flag("-a,--all", args->all,
                                           "Remove all images no container uses, not just "
                                           "untagged ones");
                              return [args, &globals] {
                                auto r = run_prune(globals, *args);
                                if (!r) return report_error(r.error());
                                return *r;
                              };
                            },
                        });

}  // namespace imgbuild::cli
