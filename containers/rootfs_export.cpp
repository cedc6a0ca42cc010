#include "containers/rootfs_export.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/sys.h"
#include "fs/mount.h"
#include "image/layer_extractor.h"
#include "image/layer_writer.h"

namespace imgbuild::containers {

Status export_rootfs_tar(const image::Store& store, const image::Image& image, int out_fd,
                         std::optional<int64_t> source_date_epoch) {
  auto layers = TRY_CTX(store.prepare_layers(image), "exporting the image's files");
  auto staging = TRY(store.make_staging_dir("export"));
  std::string mountpoint = fs::join(staging.path(), "rootfs");
  TRY(fs::make_dirs(mountpoint, 0755));
  fs::MountOptions options;
  options.lowers.assign(layers.rbegin(), layers.rend());
  options.fsname = "imgbuild-export";
  options.allow_other = false;
  auto mount = TRY_CTX(fs::Mount::create(mountpoint, options), "mounting the image to export it");
  image::LayerWriteOptions write;
  write.compression = image::Compression::kNone;
  write.source_date_epoch = source_date_epoch;
  auto written = image::write_layer_from_dir(mountpoint, out_fd, write);
  Status unmounted = mount->unmount();
  if (!written) return fail(written.error().with_context("writing the image's files as a tar"));
  return unmounted;
}

Status export_rootfs_dir(const image::Store& store, const image::Image& image,
                         const std::string& dir) {
  bool existed = fs::is_dir(dir);
  if (existed) {
    auto names = TRY(fs::list_dir(dir, fs::MissingDir::kIsError));
    if (!names.empty()) {
      return fail(ErrorKind::kAlreadyExists,
                  "--output directory " + dir + " is not empty (give an empty or new directory)");
    }
  }
  auto staging = TRY(store.make_staging_dir("export-tar"));
  std::string tar_path = fs::join(staging.path(), "rootfs.tar");
  UniqueFd tar = TRY(sys::open(tar_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  TRY(export_rootfs_tar(store, image, tar.get()));
  if (::lseek(tar.get(), 0, SEEK_SET) < 0) return fail_errno("lseek", tar_path);
  if (existed && ::rmdir(dir.c_str()) < 0) return fail_errno("rmdir", dir);
  auto extracted = image::extract_layer(tar.get(), dir);
  if (!extracted) {
    if (existed) (void)::mkdir(dir.c_str(), 0755);
    return fail(extracted.error().with_context("writing the image's files into " + dir));
  }
  return {};
}

}  // namespace imgbuild::containers
