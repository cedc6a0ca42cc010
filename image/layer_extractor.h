// Extracting a layer blob into a fresh directory, treating every tar as hostile.
//
// Rules (containerd's, where Docker and containerd differ):
// - Names are relative to the layer root: a leading '/' is dropped ("/etc/x" is "etc/x"), "." and
//   empty components are ignored, and ".." is resolved lexically; a name or hard-link target that
//   climbs above the root is refused.
// - Nothing is ever followed: parents are opened one component at a time with O_NOFOLLOW from the
//   root's fd, so an entry below a symlink (including a directory replaced by a symlink earlier in
//   the same tar) is refused, as is one below a non-directory. Missing parents are created (0755).
// - A later entry for the same name replaces the earlier one (a directory stays a directory and
//   takes the new metadata; anything else is removed first, a directory with all its contents).
// - Hard links must name an entry already extracted, and never a directory.
// - Device nodes only with allow_devices (default: when running as root). FIFOs are always fine.
// - ".wh.*" whiteouts and ".wh..wh..opq" opaque markers are kept as plain files: only the union
//   filesystem interprets them (DESIGN.md, "Layers and whiteouts").
// - Metadata: modes, mtimes (also of symlinks; of directories once their contents are written),
//   numeric owners when running as root, xattrs where the kernel permits (EPERM/ENOTSUP skipped).
// - Limits below; exceeding one is kLimit.
//
// target_dir must not exist; it is created (0755, or the mode of the tar's "./" entry). On any
// error it is removed again and nothing outside it has been touched. With ExtractTarget::kExisting
// (ADD's destination) target_dir is an existing directory extracted into: it keeps its mode unless
// the tar has a "./" entry, and on error what was extracted stays (nothing outside it is touched
// either way). Thread-safe for distinct targets; blob_fd is read from its current offset and not
// closed.
//
// Errors name the entry: `entry "a/b": parent "a" is a symlink`, kCorrupt for bad tar or
// compression data, kLimit, kPermission (device nodes), kAlreadyExists (target_dir exists).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <string>

#include "base/error.h"
#include "image/digest.h"

namespace imgbuild::image {

enum class ExtractTarget { kCreate, kExisting };

struct ExtractOptions {
  uint64_t max_entries = 1'000'000;
  uint64_t max_total_bytes = uint64_t{256} << 30;  // sum of regular files' sizes
  uint64_t max_file_bytes = uint64_t{64} << 30;
  size_t max_path_length = 4096;       // PATH_MAX
  size_t max_name_length = 255;        // NAME_MAX, per component
  size_t max_xattr_bytes = 64 * 1024;  // XATTR_SIZE_MAX, per value
  bool allow_devices = (geteuid() == 0);
  ExtractTarget target = ExtractTarget::kCreate;
};

struct ExtractedLayer {
  Digest diff_id;  // sha256 of the uncompressed tar stream
  uint64_t entries = 0;
  uint64_t bytes = 0;  // regular file data written
};

Result<ExtractedLayer> extract_layer(int blob_fd, const std::string& target_dir,
                                     const ExtractOptions& options = {});

}  // namespace imgbuild::image
