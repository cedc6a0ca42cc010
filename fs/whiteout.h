// Whiteout and opaque-directory markers, in both styles imgfs understands (see fs/mount.h):
// OCI (`.wh.NAME` files, `.wh..wh..opq`) and kernel overlayfs (char device 0/0, the
// `trusted.overlay.opaque` / `user.overlay.opaque` xattr). Reading accepts both styles in every
// layer; writing uses the style the upper was configured with.
//
// All functions take directory fds (O_PATH is enough for the read side, except where noted) and
// return 0 or an errno, the convention of the FUSE do_<op> functions that call them. Thread-safe:
// no shared state.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "fs/mount.h"

namespace imgbuild::fs {

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

// True for names the mount never shows and refuses to create: anything starting with ".wh.".
inline bool is_marker_name(std::string_view name) { return name.starts_with(kWhiteoutPrefix); }

// An overlayfs-style whiteout: a character device with device number 0/0.
inline bool is_overlay_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

// True if dirfd holds an OCI whiteout `.wh.NAME`.
bool has_oci_whiteout(int dirfd, std::string_view name);

// True if the directory open as dirfd (O_PATH ok) is opaque in either style.
bool is_opaque_dir(int dirfd);
// True if the directory `name` in the directory dirfd (O_PATH ok) is opaque in either style
// (name must be a directory: the xattr check follows a symlink).
bool is_opaque_entry(int dirfd, std::string_view name);

// Writes a whiteout for name into the directory dirfd in the given style. For kOverlay the name
// itself must not exist.
int make_whiteout(int dirfd, std::string_view name, WhiteoutStyle style);
// Removes an OCI `.wh.NAME` (kOci) from dirfd if present; ENOENT is not an error.
int remove_oci_whiteout(int dirfd, std::string_view name);
// Marks the directory dirfd (O_PATH ok) opaque in the given style.
int make_opaque(int dirfd, WhiteoutStyle style);

// "/proc/self/fd/N": the path through which O_PATH fds are reopened or used with path-only calls
// (getxattr, fchmodat, utimensat).
std::string proc_fd_path(int fd);

}  // namespace imgbuild::fs
