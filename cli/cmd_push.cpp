// imgbuild push IMAGE [DEST_REF]: uploads an image from the store to a registry.
#include <cstdio>

#include "cli/command.h"
#include "cli/registry_progress.h"
#include "image/compression.h"
#include "image/reference.h"
#include "image/store.h"
#include "registry-client/push.h"

namespace imgbuild::cli {
namespace {

struct PushArgs {
  std::string image;
  std::string dest;
  std::vector<std::string> insecure;
  std::string compression = "gzip";
  bool quiet = false;
};

Result<int> run_push(const PushArgs& args, const GlobalOptions& globals) {
  auto dest = TRY(image::Reference::parse(args.dest.empty() ? args.image : args.dest));
  registry::PushOptions options;
  options.insecure_registries = args.insecure;
  options.compression = TRY_CTX(image::parse_compression(args.compression), "--compression");
  RegistryProgress progress(stdout, args.quiet ? ProgressOutput::kQuiet : ProgressOutput::kShown);
  options.progress = &progress;
  auto store = TRY(image::Store::open(globals.root));
  auto result = TRY(registry::push_image(store, args.image, dest, options));
  std::string label = dest.tag.empty() ? result.manifest_digest.str() : dest.tag;
  std::printf("%s: digest: %s size: %lld\n", label.c_str(), result.manifest_digest.str().c_str(),
              static_cast<long long>(result.manifest_size));
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(push, Command{
                           .name = "push",
                           .description = "Push an image to a registry",
                           .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                             auto args = std::make_shared<PushArgs>();
                             sub.add_option("IMAGE", args->image, "Image in the store")->required();
                             sub.add_option("DEST_REF", args->dest,
                                            "Destination reference (default: IMAGE)");
                             sub.add_option("--insecure-registry", args->insecure,
                                            "Allow plain HTTP / unverified TLS for HOST[:PORT]");
                             sub.add_option("--compression", args->compression,
                                            "Compression of built layers: gzip (default), "
                                            "zstd, estargz (converts every layer) or none");
                             sub.add_flag("-q,--quiet", args->quiet, "Print only the digest line");
                             return [args, &globals] {
                               auto r = run_push(*args, globals);
                               if (!r) return report_error(r.error());
                               return *r;
                             };
                           },
                       });

}  // namespace imgbuild::cli
