// imgbuild rmi [-f] IMAGE...: removes tags and images, like `docker rmi`. A name removes that tag
// (and the image with its last tag); an ID or digest removes the image with all its tags, which
// for an image with several names needs -f. Space is reclaimed at once when no other imgbuild is
// writing to the store, else by the next `imgbuild prune`.
#include <algorithm>
#include <cstdio>

#include "cli/command.h"
#include "cli/image_common.h"

namespace imgbuild::cli {
namespace {

struct RmiArgs {
  std::vector<std::string> names;
  bool force = false;
};

bool has_entry_for(const std::vector<image::IndexEntry>& entries, const image::Digest& digest) {
  return std::any_of(entries.begin(), entries.end(),
                     [&](const image::IndexEntry& e) { return e.descriptor.digest == digest; });
}

Status remove_one(const image::Store& store, const std::string& name, bool force) {
  auto ref = image::Reference::parse(name);
  if (ref && !ref->digest) {
    auto entries = TRY(store.index_entries());
    bool tagged = std::any_of(entries.begin(), entries.end(), [&](const image::IndexEntry& e) {
      return e.ref && e.ref->str() == ref->str();
    });
    if (tagged) {
      image::Image img = TRY(store.resolve(name));
      image::Digest digest = TRY(store.untag(*ref));
      std::printf("Untagged: %s\n", ref->familiar().c_str());
      if (!has_entry_for(TRY(store.index_entries()), digest)) {
        std::printf("Deleted: %s\n", img.config_digest.str().c_str());
      }
      return {};
    }
  }
  image::Image img = TRY(store.resolve(name));
  const image::Digest& digest = img.index_digest ? *img.index_digest : img.manifest_digest;
  if (img.tags.size() > 1 && !force) {
    return fail(ErrorKind::kInvalidArgument,
                "conflict: unable to delete " + img.config_digest.short_hex() +
                    " (must be forced) - image is referenced in multiple repositories");
  }
  for (const auto& t : img.tags) {
    TRY(store.untag(t));
    std::printf("Untagged: %s\n", t.familiar().c_str());
  }
  auto removed = store.remove_image(digest);
  if (!removed && removed.error().kind() != ErrorKind::kNotFound) return removed;
  std::printf("Deleted: %s\n", img.config_digest.str().c_str());
  return {};
}

int run_rmi(const RmiArgs& args, const GlobalOptions& globals) {
  auto store = open_store(globals);
  if (!store) return report_error(store.error());
  int status = 0;
  for (const auto& name : args.names) {
    if (auto r = remove_one(*store, name, args.force); !r) status = report_error(r.error());
  }
  if (auto gc = store->collect_garbage_if_idle(); !gc) status = report_error(gc.error());
  return status;
}

}  // namespace

IMGBUILD_COMMAND(
    rmi, Command{
             .name = "rmi",
             .description = "Remove images (untag, and delete untagged images)",
             .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
               auto args = std::make_shared<RmiArgs>();
               sub.add_option("IMAGE", args->names, "Image names, IDs or digests")->required();
               sub.add_flag("-f,--force", args->force,
                            "Remove an image given by ID even if it has several tags");
               return [args, &globals] { return run_rmi(*args, globals); };
             },
         });

}  // namespace imgbuild::cli
