#include "builder/layer_commit.h"

#include <sys/stat.h>

#include <memory>

#include "base/dir_reader.h"
#include "base/sys.h"
#include "image/layer_writer.h"

namespace imgbuild::builder {

Result<bool> dir_is_empty(const std::string& dir) {
  auto d = TRY(fs::DirReader::open(dir));
  return !TRY(d.next()).has_value();
}

Result<LayerRef> commit_layer_dir(const image::Store& store, const std::string& dir,
                                  std::optional<int64_t> source_date_epoch) {
  image::StagedFile file = TRY(store.make_staging_file("layer"));
  image::LayerWriteOptions options;
  options.compression = image::Compression::kNone;
  options.source_date_epoch = source_date_epoch;
  image::LayerBlob blob =
      TRY_CTX(image::write_layer_from_dir(dir, file.fd(), options), "writing layer");
  TRY(sys::fsync(file.fd(), file.path()));
  std::string path = file.release();
  TRY(store.ingest_blob_file(path, blob.digest, image::Verify::kTrustCaller));
  // The layer has no entry for its root; its directory (0700 from mkdtemp) becomes a lower whose
  // root imgfs may show, so leave it as an image root normally is.
  if (::chmod(dir.c_str(), 0755) < 0) return fail_errno("chmod", dir);
  TRY(store.adopt_layer_dir(dir, blob.diff_id));
  LayerRef ref;
  ref.diff_id = blob.diff_id;
  ref.blob.media_type = blob.media_type;
  ref.blob.digest = blob.digest;
  ref.blob.size = blob.size;
  return ref;
}

}  // namespace imgbuild::builder
