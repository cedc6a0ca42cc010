// Copying files into and out of a container's root as tar streams (`imgbuild cp`), the way
// Docker's chrootarchive does it: each side runs in a child process chrooted into its root, so
// every path and symlink (absolute or relative, ".." included) is resolved inside that root and a
// hostile image can never lead a copy onto the host's files. Both sides use libarchive.
//
// tar_from_root writes a tar of `path` (absolute inside root) to out_fd, with the entry for path
// named `as_name` and its contents below it. Symlinks are stored as links, never followed, except
// the last component of path itself with FollowLink::kYes (`cp -L`). untar_into_root extracts a
// tar read from in_fd into the directory `dir` (absolute inside root; must exist), with
// owners, modes, times and xattrs, refusing ".." and absolute names.
//
// Both block until their child has finished. Errors name the path and the libarchive message;
// kNotFound when path does not exist ("Could not find the file /x in container").
#pragma once

#include <string>

#include "base/error.h"

namespace imgbuild::containers {

enum class FollowLink { kNo, kYes };

Status tar_from_root(const std::string& root, const std::string& path, const std::string& as_name,
                     FollowLink follow, int out_fd);

Status untar_into_root(const std::string& root, const std::string& dir, int in_fd);

}  // namespace imgbuild::containers
