// imgbuild pull REF [--platform OS/ARCH]: fetches an image from its registry into the store.
#include <cstdio>

#include "cli/command.h"
#include "cli/registry_progress.h"
#include "image/reference.h"
#include "image/store.h"
#include "registry-client/pull.h"

namespace imgbuild::cli {
namespace {

struct PullArgs {
  std::string ref;
  std::string platform;
  std::vector<std::string> insecure;
  bool quiet = false;
};

Result<int> run_pull(const PullArgs& args, const GlobalOptions& globals) {
  auto ref = TRY(image::Reference::parse(args.ref));
  registry::PullOptions options;
  if (!args.platform.empty()) options.platform = TRY(image::Platform::parse(args.platform));
  options.insecure_registries = args.insecure;
  RegistryProgress progress(stdout, args.quiet ? ProgressOutput::kQuiet : ProgressOutput::kShown);
  options.progress = &progress;
  auto store = TRY(image::Store::open(globals.root));
  auto result = TRY(registry::pull_image(store, ref, options));
  if (args.quiet) {
    std::printf("%s\n", ref.str().c_str());
    return 0;
  }
  const image::Digest& shown = result.index_digest ? *result.index_digest : result.manifest_digest;
  std::printf("Digest: %s\n", shown.str().c_str());
  std::printf("Status: %s for %s\n",
              result.layers_fetched > 0 ? "Downloaded newer image" : "Image is up to date",
              ref.familiar().c_str());
  std::printf("%s\n", ref.str().c_str());
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(pull, Command{
                           .name = "pull",
                           .description = "Pull an image from a registry",
                           .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                             auto args = std::make_shared<PullArgs>();
                             sub.add_option("REF", args->ref, "Image reference")->required();
                             sub.add_option("--platform", args->platform,
                                            "OS/ARCH[/VARIANT] to pick from an index");
                             sub.add_option("--insecure-registry", args->insecure,
                                            "Allow plain HTTP / unverified TLS for HOST[:PORT]");
                             sub.add_flag("-q,--quiet", args->quiet, "Print only the reference");
                             return [args, &globals] {
                               auto r = run_pull(*args, globals);
                               if (!r) return report_error(r.error());
                               return *r;
                             };
                           },
                       });

}  // namespace imgbuild::cli
