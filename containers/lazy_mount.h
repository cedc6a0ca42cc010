// Mounting a registry image before it has downloaded (issue 15): `imgbuild mount --lazy REF DIR`.
// Only the manifest and config are pulled (the layers are recorded as left on the registry, so a
// later `pull` fetches just those); each eStargz layer then costs its TOC, from which a skeleton
// tree is made under <root>/lazy/sha256/<blob hex> (image/estargz_skeleton.h), and imgfs calls
// `fill` before opening a file whose bytes are not there yet: its chunks are fetched by Range,
// verified, and written into the placeholder, which stays filled for later mounts. Layers that
// are not eStargz are pulled whole before the mount. Layers the store already holds are used
// as they are.
//
// fill runs in the mount's server process (a fork of this one) and opens its own registry
// connection on first use; a failed fetch is EIO for that open only, and the next open retries.
// Read-only mounts only, for now.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/store.h"
#include "registry-client/client.h"

namespace imgbuild::containers {

struct LazyMount {
  image::Image image;
  std::vector<std::string> lowers;  // layer directories, TOP FIRST (fs::MountOptions::lowers)
  std::vector<bool> lazy;           // parallel to lowers
  std::function<int(size_t layer, const std::string& path)> fill;
  std::function<int(size_t layer, const std::string& dir)> materialize;
  int64_t bytes_fetched = 0;  // for the TOCs, before the mount
};

Result<LazyMount> prepare_lazy_mount(const image::Store& store, const std::string& reference,
                                     const registry::ClientOptions& options);

}  // namespace imgbuild::containers
