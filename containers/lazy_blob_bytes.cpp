#include "containers/lazy_blob_bytes.h"

#include "base/log.h"

namespace imgbuild::containers {

void BlobBytesKeeper::keep(int64_t offset, std::string_view bytes) {
  if (!partial_) {
    if (store_.has_blob(blob_.digest)) return;
    auto created = image::PartialBlob::create(store_, blob_);
    if (!created) return log::debug("lazy: " + created.error().message());
    partial_ = std::move(*created);
  }
  if (auto st = partial_->add(offset, bytes); !st) log::debug("lazy: " + st.error().message());
}

}  // namespace imgbuild::containers
