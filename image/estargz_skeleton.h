// The tree of a lazily mounted eStargz layer (issue 15), made from its TOC one directory at a time.
// A directory's children are made on disk with their metadata (mode, owner, times, xattrs) only
// when the directory is first read: regular files as sparse placeholders of the right size marked
// with the xattr kLazyXattr until their bytes are fetched (registry-client/estargz_remote.h) and
// written in; subdirectories empty (but for an opaque marker, which the union reads from the
// parent's side) and marked with kLazyDirXattr until their own children are made. imgfs serves
// the tree as a lower layer, asks for a directory before it reads it (fs/mount.h,
// MountOptions::materialize_lazy_dir) and fills a marked file before it opens it (fill_lazy).
//
// Made safely from an untrusted TOC: names are checked by EstargzIndex (no "..", no name below a
// non-directory); entries are made relative to their directory's fd, paths are walked a component
// at a time without following symlinks, and a directory's symlinks are made after its other
// children. Crash-safe: a directory's mark is dropped only once all its children are there; a
// marked directory with children (an interrupted materialisation) is emptied and made again.
// Processes sharing a tree serialise on flock(2) of the directory being made. Devices need root
// (skipped otherwise, as the layer extractor does); owners are kept when the process may set them.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "image/estargz_index.h"

namespace imgbuild::image {

inline constexpr std::string_view kLazyXattr = "user.imgbuild.lazy";
inline constexpr std::string_view kLazyDirXattr = "user.imgbuild.lazydir";

// Makes `dir` (which must not exist; its parent must): the layer's root directory with its
// children, in a staging directory renamed into place.
Status make_estargz_skeleton(const EstargzIndex& index, const std::string& dir);

// Makes the children of `path` (a cleaned directory path in the layer) in the tree whose root is
// open as root_fd, first those of every still-marked directory on the way. Does nothing for a
// directory already made. Also makes the directories of the other names of its hard-linked files,
// so link counts are the image's.
Status materialize_estargz_dir(const EstargzIndex& index, int root_fd, const std::string& path);

}  // namespace imgbuild::image
