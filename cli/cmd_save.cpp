// imgbuild save [--format docker|oci] -o FILE IMAGE...: writes images to a tar archive that
// `docker load` (docker format, the default, as `docker save`) or OCI tools (oci format: an OCI
// image layout) read. The file appears only when complete.
#include <unistd.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/image_common.h"
#include "image/archive.h"
#include "image/distribution.h"
#include "registry-client/remote_layers.h"

namespace imgbuild::cli {
namespace {

struct SaveArgs {
  std::vector<std::string> names;
  std::string output;
  std::string format = "docker";
  std::string compression = "gzip";
};

Result<int> run_save(const SaveArgs& args, const GlobalOptions& globals) {
  image::ArchiveFormat format;
  if (args.format == "docker" || args.format == "docker-archive") {
    format = image::ArchiveFormat::kDocker;
  } else if (args.format == "oci" || args.format == "oci-archive") {
    format = image::ArchiveFormat::kOci;
  } else {
    return fail(ErrorKind::kInvalidArgument,
                "save: unknown --format \"" + args.format + "\" (use docker or oci)");
  }
  std::string output = args.output.empty() ? "-" : args.output;
  if (output == "-" && ::isatty(STDOUT_FILENO)) {
    return fail(ErrorKind::kInvalidArgument,
                "save: refusing to write an archive to a terminal; use -o FILE or redirect");
  }
  image::DistributionOptions distribution;
  distribution.compression =
      TRY_CTX(image::parse_compression(args.compression), "save: --compression");
  image::Store store = TRY(open_store(globals));
  // Compressed variants and manifests made below are unreferenced until the archive is written.
  image::Store::Lease lease = TRY(store.lease());
  std::vector<image::SaveRequest> requests;
  for (const auto& name : args.names) {
    image::Image img = TRY(store.resolve(name));
    TRY(registry::complete_image(store, img, registry::ClientOptions{}));  // layers left remote
    img = TRY(image::prepare_distribution(store, img, distribution));
    std::vector<image::Reference> refs;
    // Docker names the image in the archive only when it was given by name.
    auto ref = image::Reference::parse(name);
    if (ref && !ref->digest && !ref->tag.empty()) {
      for (const auto& t : img.tags) {
        if (t.str() == ref->str()) refs.push_back(t);
      }
    }
    bool merged = false;
    for (auto& r : requests) {
      if (r.image.manifest_digest == img.manifest_digest) {
        r.refs.insert(r.refs.end(), refs.begin(), refs.end());
        merged = true;
      }
    }
    if (!merged) requests.push_back(image::SaveRequest{std::move(img), std::move(refs)});
  }
  TRY_CTX(write_file_via(output,
                         [&](int fd) { return image::save_archive(store, requests, format, fd); }),
          "save");
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(save, Command{
                           .name = "save",
                           .description = "Save images to a tar archive (docker or OCI layout)",
                           .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                             auto args = std::make_shared<SaveArgs>();
                             sub.add_option("IMAGE", args->names, "Images to save")->required();
                             sub.add_option("-o,--output", args->output,
                                            "Write to FILE instead of stdout");
                             sub.add_option("--format", args->format,
                                            "docker (default; loads with docker load) or oci");
                             sub.add_option("--compression", args->compression,
                                            "Compression of built layers: gzip (default), "
                                            "zstd, estargz (converts every layer) or none");
                             return [args, &globals] {
                               auto r = run_save(*args, globals);
                               if (!r) return report_error(r.error());
                               return *r;
                             };
                           },
                       });

}  // namespace imgbuild::cli
