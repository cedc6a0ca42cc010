// imgbuild layer create|import|extract: debugging and benchmark access to the layer codec
// (image/layer_writer.h, image/layer_extractor.h). Hidden from --help; not a stable interface.
#include <fcntl.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "base/sys.h"
#include "cli/command.h"
#include "image/compression.h"
#include "image/layer_extractor.h"
#include "image/layer_writer.h"

namespace imgbuild::cli {
namespace {

struct LayerArgs {
  std::string compression = "gzip";
  int level = -1;
  std::optional<int64_t> source_date_epoch;
  std::string input;
  std::string output;
};

void print_blob(const image::LayerBlob& blob) {
  std::printf("digest: %s\ndiff_id: %s\nsize: %lld\nmedia_type: %s\n", blob.digest.str().c_str(),
              blob.diff_id.str().c_str(), static_cast<long long>(blob.size),
              blob.media_type.c_str());
}

Result<image::LayerBlob> write_blob(const LayerArgs& args, bool from_tar) {
  image::LayerWriteOptions options;
  options.compression = TRY(image::parse_compression(args.compression));
  options.level = args.level;
  options.source_date_epoch = args.source_date_epoch;
  UniqueFd out = TRY(sys::open(args.output, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  if (!from_tar) return image::write_layer_from_dir(args.input, out.get(), options);
  UniqueFd in = TRY(sys::open(args.input, O_RDONLY));
  return image::write_layer_from_tar(in.get(), out.get(), options);
}

void add_write_options(CLI::App* sub, LayerArgs& args) {
  sub->add_option("--compression", args.compression, "gzip, zstd or none")->capture_default_str();
  sub->add_option("--level", args.level, "Compression level (-1: gzip 6, zstd 3)");
  sub->add_option("--source-date-epoch", args.source_date_epoch, "Clamp mtimes to this time");
}

Runner setup(CLI::App& app, const GlobalOptions&) {
  app.group("");  // hidden: a debugging tool
  app.require_subcommand(1);
  auto args = std::make_shared<LayerArgs>();
  CLI::App* create = app.add_subcommand("create", "Write DIR as a layer blob to OUT");
  add_write_options(create, *args);
  create->add_option("dir", args->input, "Directory (a layer in OCI form)")->required();
  create->add_option("out", args->output, "Blob file to write")->required();
  CLI::App* import = app.add_subcommand("import", "Re-compress the tar TAR as a layer blob OUT");
  add_write_options(import, *args);
  import->add_option("tar", args->input, "Tar file (plain, gzip, zstd, xz or bzip2)")->required();
  import->add_option("out", args->output, "Blob file to write")->required();
  CLI::App* extract = app.add_subcommand("extract", "Extract the layer blob BLOB into DIR");
  extract->add_option("blob", args->input, "Layer blob (plain, gzip or zstd tar)")->required();
  extract->add_option("dir", args->output, "Target directory (must not exist)")->required();

  return [create, import, extract, args]() -> int {
    if (create->parsed() || import->parsed()) {
      auto blob = write_blob(*args, import->parsed());
      if (!blob) return report_error(blob.error());
      print_blob(*blob);
      return 0;
    }
    if (extract->parsed()) {
      auto in = sys::open(args->input, O_RDONLY);
      if (!in) return report_error(in.error());
      auto layer = image::extract_layer(in->get(), args->output);
      if (!layer) return report_error(layer.error());
      std::printf("diff_id: %s\nentries: %llu\nbytes: %llu\n", layer->diff_id.str().c_str(),
                  static_cast<unsigned long long>(layer->entries),
                  static_cast<unsigned long long>(layer->bytes));
      return 0;
    }
    return 2;
  };
}

IMGBUILD_COMMAND(layer, Command{
                            .name = "layer",
                            .description = "Layer codec tools (debugging, benchmarks)",
                            .setup = setup,
                        });

}  // namespace
}  // namespace imgbuild::cli
