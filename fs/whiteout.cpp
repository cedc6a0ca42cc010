#include "fs/whiteout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace imgbuild::fs {

namespace {

std::string whiteout_name(std::string_view name) {
  std::string out(kWhiteoutPrefix);
  out += name;
  return out;
}

bool xattr_is_y(const std::string& path, const char* key) {
  char value[2];
  ssize_t n = ::getxattr(path.c_str(), key, value, sizeof(value));
  return n == 1 && value[0] == 'y';
}

bool has_opaque_xattr(const std::string& path) {
  return xattr_is_y(path, "trusted.overlay.opaque") || xattr_is_y(path, "user.overlay.opaque");
}

}  // namespace

std::string proc_fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

bool has_oci_whiteout(int dirfd, std::string_view name) {
  struct stat st;
  return ::fstatat(dirfd, whiteout_name(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

bool is_opaque_dir(int dirfd) {
  struct stat st;
  if (::fstatat(dirfd, std::string(kOpaqueMarker).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return true;
  }
  return has_opaque_xattr(proc_fd_path(dirfd));
}

bool is_opaque_entry(int dirfd, std::string_view name) {
  std::string entry(name);
  std::string marker = entry + "/" + std::string(kOpaqueMarker);
  struct stat st;
  if (::fstatat(dirfd, marker.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  return has_opaque_xattr(proc_fd_path(dirfd) + "/" + entry);
}

int make_whiteout(int dirfd, std::string_view name, WhiteoutStyle style) {
  if (style == WhiteoutStyle::kOverlay) {
    if (::mknodat(dirfd, std::string(name).c_str(), S_IFCHR | 0, makedev(0, 0)) < 0) return errno;
    return 0;
  }
  std::string wh = whiteout_name(name);
  if (wh.size() > NAME_MAX) return ENAMETOOLONG;
  int fd = ::openat(dirfd, wh.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

int remove_oci_whiteout(int dirfd, std::string_view name) {
  if (::unlinkat(dirfd, whiteout_name(name).c_str(), 0) < 0 && errno != ENOENT) return errno;
  return 0;
}

int make_opaque(int dirfd, WhiteoutStyle style) {
  if (style == WhiteoutStyle::kOverlay) {
    if (::setxattr(proc_fd_path(dirfd).c_str(), "trusted.overlay.opaque", "y", 1, 0) < 0) {
      return errno;
    }
    return 0;
  }
  int fd = ::openat(dirfd, std::string(kOpaqueMarker).c_str(),
                    O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

}  // namespace imgbuild::fs
