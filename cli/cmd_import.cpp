// imgbuild import ROOTFS.tar[.gz|.zst|.xz] [NAME[:TAG]]: makes a one-layer image from a root
// filesystem tarball, like `docker import`, and unpacks it into the store. Prints the image ID.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "base/sys.h"
#include "cli/command.h"
#include "cli/image_common.h"
#include "image/compression.h"
#include "image/import.h"

namespace imgbuild::cli {
namespace {

struct ImportArgs {
  std::string file;
  std::string name;
  std::string message;
  std::string compression = "gzip";
  std::string platform;
};

Result<int> run_import(const ImportArgs& args, const GlobalOptions& globals) {
  std::optional<image::Reference> ref;
  if (!args.name.empty()) {
    ref = TRY(image::Reference::parse(args.name));
    if (ref->digest) {
      return fail(ErrorKind::kInvalidArgument,
                  "import: \"" + args.name + "\": a digest cannot be given to a new image");
    }
  }
  image::ImportOptions options;
  options.tag = ref;
  options.layer.compression = TRY(image::parse_compression(args.compression));
  if (!args.platform.empty()) options.platform = TRY(image::Platform::parse(args.platform));
  options.comment = args.message.empty() ? "Imported from " + args.file : args.message;

  UniqueFd owned;
  int in_fd = STDIN_FILENO;
  if (args.file != "-") {
    owned = TRY(sys::open(args.file, O_RDONLY));
    in_fd = owned.get();
  }
  image::Store store = TRY(open_store(globals));
  image::CommittedImage committed =
      TRY(image::import_rootfs(store, in_fd, args.file == "-" ? "" : args.file,
                               args.file == "-" ? "stdin" : args.file, options));
  std::printf("%s\n", committed.config_digest.str().c_str());
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(
    import, Command{
                .name = "import",
                .description = "Import a root filesystem tarball as a one-layer image",
                .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                  auto args = std::make_shared<ImportArgs>();
                  sub.add_option(
                         "FILE", args->file,
                         "Root filesystem tar (plain, gzip, zstd, xz or bzip2); - for stdin")
                      ->required();
                  sub.add_option("NAME", args->name, "Name for the image, NAME[:TAG]");
                  sub.add_option("-m,--message", args->message,
                                 "Comment for the history entry (default: Imported from FILE)");
                  sub.add_option("--compression", args->compression,
                                 "Layer compression: gzip (default), zstd or none");
                  sub.add_option("--platform", args->platform,
                                 "OS/ARCH[/VARIANT] recorded in the config (default: the host)");
                  return [args, &globals] {
                    auto r = run_import(*args, globals);
                    if (!r) return report_error(r.error());
                    return *r;
                  };
                },
            });

}  // namespace imgbuild::cli
