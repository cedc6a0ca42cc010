// imgbuild tag SOURCE TARGET: gives an image in the store another name, like `docker tag`.
#include "cli/command.h"
#include "cli/image_common.h"

namespace imgbuild::cli {
namespace {

struct TagArgs {
  std::string source;
  std::string target;
};

Result<int> run_tag(const TagArgs& args, const GlobalOptions& globals) {
  image::Reference target = TRY(image::Reference::parse(args.target));
  if (target.digest) {
    return fail(ErrorKind::kInvalidArgument,
                "tag: target \"" + args.target + "\" must not contain a digest");
  }
  image::Store store = TRY(open_store(globals));
  image::Image img = TRY(store.resolve(args.source));
  const image::Digest& digest = img.index_digest ? *img.index_digest : img.manifest_digest;
  TRY(store.tag(target, digest));
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(
    tag, Command{
             .name = "tag",
             .description = "Create a tag TARGET that refers to SOURCE",
             .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
               auto args = std::make_shared<TagArgs>();
               sub.add_option("SOURCE", args->source, "Image name, ID or digest")->required();
               sub.add_option("TARGET", args->target, "New name, NAME[:TAG]")->required();
               return [args, &globals] {
                 auto r = run_tag(*args, globals);
                 if (!r) return report_error(r.error());
                 return *r;
               };
             },
         });

}  // namespace imgbuild::cli
