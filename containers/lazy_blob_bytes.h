// A layer's blob bytes as lazy reads fetch them (footer, TOC, chunks' gzip members), kept for a
// later pull (image/partial_blob.h). Only a help: a failure is logged and forgotten. The partial
// blob is opened on first use, and not at all when the store has the whole blob. Not thread-safe:
// one thread at a time.
#pragma once

#include <optional>
#include <string_view>

#include "image/descriptor.h"
#include "image/partial_blob.h"
#include "image/store.h"
#include "registry-client/estargz_remote.h"

namespace imgbuild::containers {

class BlobBytesKeeper {
 public:
  BlobBytesKeeper(image::Store store, image::Descriptor blob)
      : store_(std::move(store)), blob_(std::move(blob)) {}

  void keep(int64_t offset, std::string_view bytes);
  registry::BlobBytesSink sink() {
    return [this](int64_t offset, std::string_view bytes) { keep(offset, bytes); };
  }

 private:
  image::Store store_;
  image::Descriptor blob_;
  std::optional<image::PartialBlob> partial_;
};

}  // namespace imgbuild::containers
