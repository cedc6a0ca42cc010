// imgbuild import ROOTFS.tar[.gz|.zst|.xz] [NAME[:TAG]]: makes a one-layer image from a root
// filesystem tarball, like `docker import`, and unpacks it into the store. Prints the image ID.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <thread>

#include "base/fs.h"
#include "base/scope_guard.h"
#include "base/sys.h"
#include "cli/command.h"
#include "cli/image_common.h"
#include "image/compression.h"
#include "image/layer_extractor.h"
#include "image/layer_writer.h"

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
  image::LayerWriteOptions options;
  options.compression = TRY(image::parse_compression(args.compression));
  image::Platform platform = image::Platform::host();
  if (!args.platform.empty()) platform = TRY(image::Platform::parse(args.platform));

  UniqueFd owned;
  int in_fd = STDIN_FILENO;
  if (args.file != "-") {
    owned = TRY(sys::open(args.file, O_RDONLY));
    in_fd = owned.get();
  }
  const std::string source = args.file == "-" ? "stdin" : args.file;

  image::Store store = TRY(open_store(globals));
  image::Store::Lease lease = TRY(store.lease());

  // The layer is unpacked as part of the import (as `docker import` does), so the first run or
  // build on the image does not pay for it. From a regular file, extraction runs beside
  // compression, reading the file a second time; from stdin or a pipe, it reads the finished blob.
  // Either way the blob enters the store only once the tar has extracted cleanly.
  fs::TempDir unpack_dir = TRY(store.make_staging_dir("import-unpack"));
  const std::string unpacked = fs::join(unpack_dir.path(), "layer");
  std::optional<Result<image::ExtractedLayer>> extracted;
  std::thread extractor;
  UniqueFd second_fd;
  struct stat in_st {};
  bool regular_file = ::fstat(in_fd, &in_st) == 0 && S_ISREG(in_st.st_mode);
  if (regular_file) {
    // A second, independent reader (a pipe or FIFO would split its stream between the two).
    second_fd = TRY(sys::open(args.file, O_RDONLY));
    extractor = std::thread([&] { extracted = image::extract_layer(second_fd.get(), unpacked); });
  }
  ScopeGuard join([&] {
    if (extractor.joinable()) extractor.join();
  });
  image::StagedFile staged = TRY(store.make_staging_file("import"));
  image::LayerBlob blob =
      TRY_CTX(image::write_layer_from_tar(in_fd, staged.fd(), options), "importing " + source);
  if (extractor.joinable()) {
    extractor.join();
  } else {
    UniqueFd blob_fd = TRY(sys::open(staged.path(), O_RDONLY));
    extracted = image::extract_layer(blob_fd.get(), unpacked);
  }
  image::ExtractedLayer tree = TRY_CTX(std::move(*extracted), "importing " + source);
  if (tree.diff_id != blob.diff_id) {
    return fail(ErrorKind::kCorrupt,
                "importing " + source + ": the file changed while it was read");
  }
  TRY(store.ingest_blob_file(staged.path(), blob.digest, image::Verify::kTrustCaller));
  staged.release();
  TRY_CTX(store.adopt_layer_dir(unpacked, blob.diff_id), "importing " + source);

  image::ImageConfig config;
  config.created = image::rfc3339_now();
  config.os = platform.os;
  config.architecture = platform.architecture;
  config.variant = platform.variant;
  config.diff_ids = {blob.diff_id};
  image::HistoryEntry history;
  history.created = config.created;
  history.comment = args.message.empty() ? "Imported from " + args.file : args.message;
  config.history.push_back(std::move(history));
  image::Descriptor layer{.media_type = blob.media_type, .digest = blob.digest, .size = blob.size};
  image::CommittedImage committed = TRY(store.commit_image(config, {layer}));
  if (ref) TRY(store.tag(*ref, committed.manifest_digest, committed.manifest_size));
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
