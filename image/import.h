// `imgbuild import`'s pipeline, as `docker import`: a root filesystem tarball (plain, gzip, zstd,
// xz or bzip2) becomes a one-layer image in the store, its layer compressed as asked and already
// unpacked (so the first run or build on the image does not pay for it), optionally tagged.
// The blob enters the store only once the tar has extracted cleanly, under a store lease.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "image/layer_writer.h"
#include "image/platform.h"
#include "image/reference.h"
#include "image/store.h"

namespace imgbuild::image {

struct ImportOptions {
  LayerWriteOptions layer;               // the blob's compression
  Platform platform = Platform::host();  // recorded in the config
  std::string comment;                   // the history entry's comment
  std::optional<Reference> tag;          // tagged once committed
};

// Reads the tar from in_fd. path: the file in_fd was opened from, "" for a stream (stdin, a pipe);
// from a regular file the layer is extracted beside the compression by a second reader of path,
// from a stream out of the finished blob. source names the input in errors ("importing SOURCE:
// ..."); kCorrupt "importing SOURCE: the file changed while it was read" when the two readers
// disagree.
Result<CommittedImage> import_rootfs(const Store& store, int in_fd, const std::string& path,
                                     const std::string& source, const ImportOptions& options);

}  // namespace imgbuild::image
