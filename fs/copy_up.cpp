// Copy-up: giving a lower entry an upper copy before its first change. Parents first, then the
// entry with its data, owner, mode, xattrs and times (in that order: chown clears setuid bits and
// security.capability, writing data changes mtime).
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "base/eintr.h"
#include "base/log.h"
#include "fs/dir_listing.h"
#include "fs/union_fs.h"
#include "fs/whiteout.h"

namespace imgbuild::fs {

namespace {

bool internal_xattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

// Copies xattrs between two paths (proc fd paths of regular files or directories).
int copy_xattrs(const std::string& src, const std::string& dst) {
  ssize_t size = ::listxattr(src.c_str(), nullptr, 0);
  if (size < 0) return (errno == ENOTSUP || errno == ENODATA) ? 0 : errno;
  if (size == 0) return 0;
  std::vector<char> names(static_cast<size_t>(size));
  size = ::listxattr(src.c_str(), names.data(), names.size());
  if (size < 0) return errno;
  std::vector<char> value;
  for (ssize_t off = 0; off < size;) {
    std::string name(names.data() + off);
    off += static_cast<ssize_t>(name.size()) + 1;
    if (internal_xattr(name)) continue;
    ssize_t len = ::getxattr(src.c_str(), name.c_str(), nullptr, 0);
    if (len < 0) continue;
    value.resize(static_cast<size_t>(len));
    len = ::getxattr(src.c_str(), name.c_str(), value.data(), value.size());
    if (len < 0) continue;
    if (::setxattr(dst.c_str(), name.c_str(), value.data(), static_cast<size_t>(len), 0) < 0 &&
        errno != ENOTSUP) {
      return errno;
    }
  }
  return 0;
}

int copy_data(int in, int out, off_t size) {
  off_t done = 0;
  bool use_cfr = true;
  while (done < size) {
    size_t chunk = static_cast<size_t>(std::min<off_t>(size - done, 1 << 30));
    ssize_t n = -1;
    if (use_cfr) {
      n = sys::retry_eintr([&] { return ::copy_file_range(in, nullptr, out, nullptr, chunk, 0); });
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        use_cfr = false;
        continue;
      }
    } else {
      n = sys::retry_eintr([&] { return ::sendfile(out, in, nullptr, chunk); });
    }
    if (n < 0) return errno;
    if (n == 0) break;  // the lower file is shorter than it was: lowers do not change, but be safe
    done += n;
  }
  return 0;
}

// Owner, mode, xattrs, times of src (stat st, O_PATH fd src_fd) onto the new upper entry
// (O_PATH fd dst). Symlinks only get owner and times: Linux has no symlink modes.
int copy_metadata(const struct stat& st, int src_fd, int dst_dir, const std::string& name,
                  int dst) {
  if (S_ISLNK(st.st_mode)) {
    if (::fchownat(dst_dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
      return errno;
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(dst_dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) return errno;
    return 0;
  }
  std::string dst_path = proc_fd_path(dst);
  if (::fchownat(dst, "", st.st_uid, st.st_gid, AT_EMPTY_PATH) < 0) return errno;
  if (::chmod(dst_path.c_str(), st.st_mode & 07777) < 0) return errno;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    if (int err = copy_xattrs(proc_fd_path(src_fd), dst_path)) return err;
  }
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, dst_path.c_str(), times, 0) < 0) return errno;
  return 0;
}

UniqueFd open_path(int dirfd, const std::string& name) {
  return UniqueFd(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
}

// Regular file: written as an anonymous O_TMPFILE and linked in complete, so a crash never leaves
// a half-copied file in the upper.
int copy_regular(const struct stat& st, int src_fd, int dir, const std::string& name) {
  int in = reopen_fd(src_fd, O_RDONLY);
  if (in < 0) return -in;
  UniqueFd in_fd(in);
  bool anonymous = true;
  UniqueFd out(::openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
  if (!out) {
    anonymous = false;
    out.reset(::openat(dir, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
    if (!out) return errno;
  }
  int err = copy_data(in_fd.get(), out.get(), st.st_size);
  if (!err) err = copy_metadata(st, src_fd, dir, name, out.get());
  if (!err && anonymous &&
      ::linkat(AT_FDCWD, proc_fd_path(out.get()).c_str(), dir, name.c_str(), AT_SYMLINK_FOLLOW) <
          0) {
    err = errno;
  }
  if (err && !anonymous) ::unlinkat(dir, name.c_str(), 0);
  return err;
}

}  // namespace

int Filesystem::copy_up(Node& node) {
  if (node.has_upper) return 0;
  if (!writable()) return EROFS;
  if (!node.parent || node.lowers.empty()) return EIO;
  Node& parent = *node.parent;
  if (int err = copy_up(parent)) return err;
  PinnedFd dir_fd = upper_fd(parent);
  if (!dir_fd) return dir_fd.error();
  int dir = dir_fd.get();
  const std::string& name = node.name;

  // Already there: another name of a hard link, or a directory copied up as a whole.
  struct stat existing;
  if (::fstatat(dir, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
      !is_overlay_whiteout(existing) && (existing.st_mode & S_IFMT) == node.type) {
    set_upper(node, existing);
    return 0;
  }

  // A lazy layer's file gets its bytes first. The callbacks fill outside mu where they can
  // (fill_lazy); this fills what they could not (the files of a directory copied up as a whole).
  if (size_t layer = 0; lazy_file(node, &layer)) {
    if (int err = options_.fill_lazy(layer, node.lower_path)) return err;
  }
  PinnedFd src_fd = lower_fd(node, 0);
  if (!src_fd) return src_fd.error();
  int src = src_fd.get();
  struct stat st;
  if (::fstatat(src, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) return errno;
  int err = 0;
  auto hl = hardlink_uppers_.find(node.ino);
  bool linked = hl != hardlink_uppers_.end() && hl->second.get() != &node;
  if (linked) {
    PinnedFd other = upper_fd(*hl->second);
    if (!other) return other.error();
    if (::linkat(AT_FDCWD, proc_fd_path(other.get()).c_str(), dir, name.c_str(),
                 AT_SYMLINK_FOLLOW) < 0) {
      return errno;
    }
  } else if (S_ISREG(st.st_mode)) {
    err = copy_regular(st, src, dir, name);
  } else {
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dir, name.c_str(), 0700) < 0) return errno;
    } else if (S_ISLNK(st.st_mode)) {
      std::vector<char> target(static_cast<size_t>(st.st_size) + 1);
      ssize_t n = ::readlinkat(src, "", target.data(), target.size());
      if (n < 0) return errno;
      if (::symlinkat(std::string(target.data(), static_cast<size_t>(n)).c_str(), dir,
                      name.c_str()) < 0) {
        return errno;
      }
    } else {
      if (::mknodat(dir, name.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0) {
        return errno;
      }
    }
    UniqueFd fd = open_path(dir, name);
    if (!fd) err = errno;
    if (!err) err = copy_metadata(st, src, dir, name, fd.get());
    if (err) {
      ::unlinkat(dir, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
    }
  }
  if (err) return err;
  struct stat up;
  if (::fstatat(dir, name.c_str(), &up, AT_SYMLINK_NOFOLLOW) < 0) return errno;
  set_upper(node, up);
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !linked) {
    hardlink_uppers_[node.ino] = node.shared_from_this();
    link_lower_siblings(node, st);
  }
  return 0;
}

int Filesystem::copy_up_tree(const std::shared_ptr<Node>& dir) {
  if (int err = copy_up(*dir)) return err;
  if (!dir->is_dir() || dir->lowers.empty()) return 0;
  std::vector<DirEntry> entries;
  if (int err = list_dir(*this, *dir, &entries)) return err;
  for (const DirEntry& e : entries) {
    Resolved r;
    if (int err = resolve(*dir, e.name, &r)) return err;
    if (!r.exists) continue;
    std::shared_ptr<Node> child = peek(dir, e.name, std::move(r));
    int err = child->is_dir() ? copy_up_tree(child) : copy_up(*child);
    release_unused(child);
    if (err) return err;
  }
  // Everything visible now has an upper copy: cut the directory loose from the lowers, so it
  // means the same wherever it is renamed to.
  {
    PinnedFd up = upper_fd(*dir);
    if (!up) return up.error();
    if (int err = make_opaque(up.get(), style())) return err;
  }
  dir->lowers.clear();
  return 0;
}

int link_other_name(Filesystem& fs, Node& node, const std::shared_ptr<Node>& dir,
                    const std::string& name) {
  if (int err = fs.copy_up(*dir)) return err;
  PinnedFd to = fs.upper_fd(*dir);
  if (!to) return to.error();
  struct stat st;
  if (::fstatat(to.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return 0;
  PinnedFd file = fs.upper_fd(node);
  int err = file ? 0 : file.error();
  if (!err && ::linkat(AT_FDCWD, proc_fd_path(file.get()).c_str(), to.get(), name.c_str(),
                       AT_SYMLINK_FOLLOW) < 0) {
    err = errno;
  }
  if (err) {
    log::warn("imgfs: linking copied-up hard link " + name + ": " + std::string(errno_name(err)));
  }
  return err;
}

}  // namespace imgbuild::fs
