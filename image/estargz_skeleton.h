// The tree of a lazily mounted eStargz layer (issue 15): every entry of its TOC made on disk with
// its metadata (mode, owner, times, xattrs), regular files as sparse placeholders of the right size
// marked with the xattr kLazyXattr until their bytes are fetched (registry-client/
// estargz_remote.h) and written in. imgfs serves the directory as a lower layer and fills a
// marked file before it opens it (fs/mount.h, MountOptions::fill_lazy).
//
// Made safely from an untrusted TOC: names are checked by EstargzIndex (no ".."), and symlinks
// are created last, after every directory, file and hard link, so no path used while building
// ever passes through one. Built in a staging directory renamed into place, so a half-made tree is
// never visible. Devices need root (skipped otherwise, as the layer extractor does); owners are
// kept when the process may set them.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "image/estargz_index.h"

namespace imgbuild::image {

inline constexpr std::string_view kLazyXattr = "user.imgbuild.lazy";

// Makes `dir` (which must not exist; its parent must).
Status make_estargz_skeleton(const EstargzIndex& index, const std::string& dir);

}  // namespace imgbuild::image
