#include "image/import.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <thread>

#include "base/fs.h"
#include "base/scope_guard.h"
#include "base/sys.h"
#include "image/image_config.h"
#include "image/layer_extractor.h"

namespace imgbuild::image {

Result<CommittedImage> import_rootfs(const Store& store, int in_fd, const std::string& path,
                                     const std::string& source, const ImportOptions& options) {
  Store::Lease lease = TRY(store.lease());
  fs::TempDir unpack_dir = TRY(store.make_staging_dir("import-unpack"));
  const std::string unpacked = fs::join(unpack_dir.path(), "layer");
  std::optional<Result<ExtractedLayer>> extracted;
  std::thread extractor;
  UniqueFd second_fd;
  struct stat in_st {};
  bool regular_file = !path.empty() && ::fstat(in_fd, &in_st) == 0 && S_ISREG(in_st.st_mode);
  if (regular_file) {
    // A second, independent reader (a pipe or FIFO would split its stream between the two).
    second_fd = TRY(sys::open(path, O_RDONLY));
    extractor = std::thread([&] { extracted = extract_layer(second_fd.get(), unpacked); });
  }
  ScopeGuard join([&] {
    if (extractor.joinable()) extractor.join();
  });
  StagedFile staged = TRY(store.make_staging_file("import"));
  LayerBlob blob =
      TRY_CTX(write_layer_from_tar(in_fd, staged.fd(), options.layer), "importing " + source);
  if (extractor.joinable()) {
    extractor.join();
  } else {
    UniqueFd blob_fd = TRY(sys::open(staged.path(), O_RDONLY));
    extracted = extract_layer(blob_fd.get(), unpacked);
  }
  ExtractedLayer tree = TRY_CTX(std::move(*extracted), "importing " + source);
  if (tree.diff_id != blob.diff_id) {
    return fail(ErrorKind::kCorrupt,
                "importing " + source + ": the file changed while it was read");
  }
  TRY(store.ingest_blob_file(staged.path(), blob.digest, Verify::kTrustCaller));
  staged.release();
  TRY_CTX(store.adopt_layer_dir(unpacked, blob.diff_id), "importing " + source);

  ImageConfig config;
  config.created = rfc3339_now();
  config.os = options.platform.os;
  config.architecture = options.platform.architecture;
  config.variant = options.platform.variant;
  config.diff_ids = {blob.diff_id};
  HistoryEntry history;
  history.created = config.created;
  history.comment = options.comment;
  config.history.push_back(std::move(history));
  Descriptor layer{.media_type = blob.media_type, .digest = blob.digest, .size = blob.size};
  CommittedImage committed = TRY(store.commit_image(config, {layer}));
  if (options.tag) TRY(store.tag(*options.tag, committed.manifest_digest, committed.manifest_size));
  return committed;
}

}  // namespace imgbuild::image
