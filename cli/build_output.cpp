#include "cli/build_output.h"

#include <unistd.h>

#include <algorithm>

#include "base/fs.h"
#include "cli/image_common.h"
#include "containers/rootfs_export.h"
#include "image/archive.h"
#include "image/distribution.h"
#include "registry-client/push.h"
#include "registry-client/remote_layers.h"

namespace imgbuild::cli {
namespace {

using Type = builder::OutputSpec::Type;

std::string describe(const builder::OutputSpec& o) {
  switch (o.type) {
    case Type::kLocal: return "--output type=local,dest=" + o.dest;
    case Type::kTar: return "--output type=tar,dest=" + o.dest;
    case Type::kOci: return "--output type=oci,dest=" + o.dest;
    case Type::kDocker: return "--output type=docker,dest=" + o.dest;
    case Type::kImage: return "--output type=image,name=" + o.name;
  }
  return "--output";
}

Status write_one(const image::Store& store, const image::Image& image, const builder::OutputSpec& o,
                 const BuildOutputContext& built) {
  switch (o.type) {
    case Type::kLocal: {
      std::string dir = fs::absolute(o.dest);
      std::string parent = dir.substr(0, dir.rfind('/'));
      if (!parent.empty()) TRY(fs::make_dirs(parent));
      return containers::export_rootfs_dir(store, image, dir);
    }
    case Type::kTar:
      return write_file_via(o.dest, [&](int fd) {
        return containers::export_rootfs_tar(store, image, fd, built.source_date_epoch);
      });
    case Type::kOci:
    case Type::kDocker: {
      image::Store::Lease lease = TRY(store.lease());
      image::DistributionOptions distribution;
      distribution.compression = built.compression;
      image::Image ready = TRY(image::prepare_distribution(store, image, distribution));
      std::vector<image::SaveRequest> requests = {{ready, image.tags}};
      auto format =
          o.type == Type::kOci ? image::ArchiveFormat::kOci : image::ArchiveFormat::kDocker;
      return write_file_via(
          o.dest, [&](int fd) { return image::save_archive(store, requests, format, fd); });
    }
    case Type::kImage: {
      if (o.name.empty()) {
        return fail(ErrorKind::kInvalidArgument, "name=REF is required (or use -t)");
      }
      auto ref = TRY(image::Reference::parse(o.name));
      TRY(store.tag(ref, built.manifest_digest, built.manifest_size));
      if (!o.push) return {};
      registry::PushOptions push;
      push.compression = built.compression;
      TRY(registry::push_image(store, ref.str(), ref, push));
      return {};
    }
  }
  return {};
}

}  // namespace

Status check_build_outputs(const std::vector<builder::OutputSpec>& outputs) {
  int to_stdout = 0;
  for (const auto& o : outputs) {
    if (o.type == Type::kLocal || o.type == Type::kImage || o.dest != "-") continue;
    ++to_stdout;
    if (::isatty(STDOUT_FILENO)) {
      return fail(ErrorKind::kInvalidArgument,
                  describe(o) +
                      ": refusing to write a tar to a terminal; give dest=FILE or "
                      "redirect the output");
    }
  }
  if (to_stdout > 1) {
    return fail(ErrorKind::kInvalidArgument, "--output: only one output can go to stdout");
  }
  return {};
}

Status write_build_outputs(const image::Store& store,
                           const std::vector<builder::OutputSpec>& outputs,
                           const BuildOutputContext& built) {
  if (outputs.empty()) return {};
  image::Image image = TRY(store.load_image(built.manifest_digest));
  bool pushes_only = std::all_of(outputs.begin(), outputs.end(), [](const auto& o) {
    return o.type == builder::OutputSpec::Type::kImage;
  });
  // Layers a registry cache hit left on the registry are needed for files and archives.
  if (!pushes_only) TRY(registry::complete_image(store, image, registry::ClientOptions{}));
  for (const auto& o : outputs) TRY_CTX(write_one(store, image, o, built), describe(o));
  return {};
}

}  // namespace imgbuild::cli
