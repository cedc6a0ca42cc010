// The tree of a lazily mounted eStargz layer (issue 15), made from its TOC as it is read. A
// directory's children are made on disk with their metadata (mode, owner, times, xattrs) only when
// they are needed: one entry when a lookup names it, all of them when the directory is first
// listed. Regular files are sparse placeholders of the right size marked with the xattr kLazyXattr
// until their bytes are fetched (registry-client/estargz_remote.h) and written in; subdirectories
// empty (but for an opaque marker, which the union reads from the parent's side) and marked with
// kLazyDirXattr until all their own children are made. imgfs serves the tree as a lower layer,
// asks for an entry before it looks a name up (MountOptions::materialize_lazy_entry) and for a
// whole directory before it lists or copies it (materialize_lazy_dir), and fills a marked file
// before it opens it (fill_lazy).
//
// Made safely from an untrusted TOC: names are checked by EstargzIndex (no "..", no name below a
// non-directory); entries are made relative to their directory's fd, paths are walked a component
// at a time without following symlinks, and a directory's symlinks are made after its other
// children. Crash-safe: every entry is made whole under a staging name and renamed to its own
// (RENAME_NOREPLACE), so an entry that is there is complete and is never made again (it may be
// filled already); a directory's mark is dropped only once all its children are there, and
// making a marked directory again removes the staging leftovers and makes what is missing.
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
// open as root_fd, and the directories on the way to it (those alone, as
// materialize_estargz_entry does). Does nothing for a directory already made. Also makes the
// directories of the other names of its hard-linked files, so link counts are the image's.
Status materialize_estargz_dir(const EstargzIndex& index, int root_fd, const std::string& path);

// Makes the entry `name` of the directory `dir` (a cleaned path in the layer) and its whiteout
// `.wh.NAME` if the TOC has them, and the directories on the way, without their siblings; nothing
// when the directory is made already or the entry is there. A hard-linked entry makes its whole
// directory (materialize_estargz_dir), so link counts are the image's.
Status materialize_estargz_entry(const EstargzIndex& index, int root_fd, const std::string& dir,
                                 const std::string& name);

}  // namespace imgbuild::image
