// An image's merged filesystem as files: `build --output type=tar` and `type=local` (BuildKit's
// local and tar exporters). The image is mounted read-only with imgfs on a private directory under
// the store's tmp/, so whiteouts, opaque directories and hard links come out exactly as a container
// sees them; the tree is written as one uncompressed, deterministic tar (image/layer_writer.h's
// rules: name order, numeric owners, xattrs, mtimes clamped to source_date_epoch when set).
// type=local extracts that tar into a directory under the layer extractor's rules (owners when
// root, or rootless within the namespace's ids).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "image/store.h"

namespace imgbuild::containers {

// Writes the tar to out_fd (from its current offset; not closed).
Status export_rootfs_tar(const image::Store& store, const image::Image& image, int out_fd,
                         std::optional<int64_t> source_date_epoch = std::nullopt);

// Writes the files into dir: created when missing; an existing dir must be empty (so nothing of
// an earlier export survives unnoticed). On error dir is left as it was (created: removed).
Status export_rootfs_dir(const image::Store& store, const image::Image& image,
                         const std::string& dir);

}  // namespace imgbuild::containers
