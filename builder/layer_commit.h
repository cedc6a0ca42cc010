// Turning a finished staging directory (an OCI layer diff: a RUN's upper, or a COPY's output)
// into a layer of the store: written once as an uncompressed tar blob
// (application/vnd.oci.image.layer.v1.tar) whose digest, computed in the same pass, is the diff
// ID, and then renamed into layers/ as that layer's unpacked copy, so it is never extracted
// again. Nothing is compressed during a build: push and save compress (image/distribution.h).
// The directory must be under the store's tmp/; on success it has been moved away.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/store.h"

namespace imgbuild::builder {

struct LayerRef {
  image::Digest diff_id;
  image::Descriptor blob;
};

// True when the directory has no entries (the step changed nothing).
Result<bool> dir_is_empty(const std::string& dir);

Result<LayerRef> commit_layer_dir(const image::Store& store, const std::string& dir,
                                  std::optional<int64_t> source_date_epoch);

}  // namespace imgbuild::builder
