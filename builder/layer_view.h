// LayerView: a read-only, merged view of an image's unpacked layer directories (top first),
// without mounting anything. OCI whiteouts are honoured: ".wh.NAME" hides NAME in lower layers and
// ".wh..wh..opq" hides everything below its directory in lower layers; marker files are never
// listed. COPY --from, --chown name lookups (/etc/passwd, /etc/group) and "does this parent
// directory already exist" questions use it, so those never need a FUSE mount.
//
// Image paths are absolute ("/etc/passwd") or relative to "/"; symlinks met along the way are
// resolved inside the image root (an absolute target means the image's root, ".." stops at root),
// so a hostile image cannot make the view read host files. The layer directories must not change
// while the view is used (store layers are immutable). Thread-compatible: const methods only.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::builder {

struct LocatedPath {
  std::string image_path;  // cleaned, without leading '/', "" for the root
  std::string real_path;   // the file in the top-most layer that provides it
  struct stat st {};
};

class LayerView {
 public:
  explicit LayerView(std::vector<std::string> layers_top_first)
      : layers_(std::move(layers_top_first)) {}

  // The entry at `path`, following symlinks in every component but the last (and the last too
  // when follow_final). nullopt when absent or whited out.
  Result<std::optional<LocatedPath>> lookup(std::string_view path, bool follow_final) const;
  // Names in the merged directory, sorted; an error if `path` is not a directory.
  Result<std::vector<std::string>> list(std::string_view path) const;
  // Contents of a regular file (following symlinks), nullopt when absent.
  Result<std::optional<std::string>> read_file(std::string_view path) const;

  const std::vector<std::string>& layers() const { return layers_; }

 private:
  // Finds a symlink-free cleaned path in the layers (top-most provider).
  std::optional<LocatedPath> lookup_clean(const std::vector<std::string>& parts) const;
  std::vector<std::string> layers_;
};

// Splits an image path into cleaned components, resolving "." and ".." lexically at the root.
std::vector<std::string> image_path_parts(std::string_view path);

}  // namespace imgbuild::builder
