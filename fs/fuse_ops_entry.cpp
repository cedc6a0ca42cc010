// lookup, forget, getattr, setattr, readlink, mknod, mkdir, symlink.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "fs/fuse_ops.h"
#include "fs/killpriv.h"
#include "fs/whiteout.h"

namespace imgbuild::fs {

int fill_entry(Filesystem& fs, Node& node, fuse_entry_param* e) {
  std::memset(e, 0, sizeof(*e));
  if (int err = fs.stat_node(node, &e->attr)) return err;
  e->ino = node.ino;
  e->attr_timeout = fs.timeout_for(node);
  e->entry_timeout = e->attr_timeout;
  return 0;
}

int check_new_name(const std::string& name) {
  if (name.size() > NAME_MAX) return ENAMETOOLONG;
  if (is_marker_name(name)) return EPERM;
  return 0;
}

namespace {

int do_lookup(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_entry_param* e) {
  Filesystem& fs = fs_of(req);
  std::lock_guard lock(fs.mu);
  auto dir = fs.node(parent);
  if (!dir) return ESTALE;
  Resolved r;
  if (int err = fs.resolve(*dir, name, &r)) return err;
  if (!r.exists) {
    // A negative entry: nothing changes a directory except this mount, so the kernel may cache
    // the absence as long as it caches the directory.
    std::memset(e, 0, sizeof(*e));
    e->entry_timeout = fs.timeout_for(*dir);
    return 0;
  }
  auto node = fs.instantiate(dir, name, std::move(r));
  if (int err = fill_entry(fs, *node, e)) {
    fs.forget(node->ino, 1);
    return err;
  }
  return 0;
}

void sfs_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fuse_entry_param e;
  int err = do_lookup(req, parent, name, &e);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_entry(req, &e);
  }
}

void sfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Filesystem& fs = fs_of(req);
  {
    std::lock_guard lock(fs.mu);
    fs.forget(ino, nlookup);
  }
  fuse_reply_none(req);
}

void sfs_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  Filesystem& fs = fs_of(req);
  {
    std::lock_guard lock(fs.mu);
    for (size_t i = 0; i < count; ++i) fs.forget(forgets[i].ino, forgets[i].nlookup);
  }
  fuse_reply_none(req);
}

int do_getattr(fuse_req_t req, fuse_ino_t ino, struct stat* st, double* timeout) {
  Filesystem& fs = fs_of(req);
  std::lock_guard lock(fs.mu);
  auto node = fs.node(ino);
  if (!node) return ESTALE;
  *timeout = fs.timeout_for(*node);
  return fs.stat_node(*node, st);
}

void sfs_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  struct stat st;
  double timeout = 0;
  int err = do_getattr(req, ino, &st, &timeout);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_attr(req, &st, timeout);
  }
}

bool times_only_flush(Filesystem& fs, Node& node, const struct stat* attr, int to_set) {
  if (to_set & ~(FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_CTIME | FUSE_SET_ATTR_ATIME)) return false;
  if (node.unlinked) return true;
  if (to_set & FUSE_SET_ATTR_ATIME) return false;
  struct stat st;
  if (fs.stat_lower(node, &st) != 0) return false;
  return !(to_set & FUSE_SET_ATTR_MTIME) ||
         (st.st_mtim.tv_sec == attr->st_mtim.tv_sec && st.st_mtim.tv_nsec == attr->st_mtim.tv_nsec);
}

int do_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, struct stat* out,
               double* timeout) {
  Filesystem& fs = fs_of(req);
  // Times alone may be a flush that copies nothing up (times_only_flush): copy_up fills then.
  if (to_set & ~(FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_CTIME | FUSE_SET_ATTR_ATIME)) {
    if (int err = fill_lazy(fs, ino)) return err;
  }
  std::lock_guard lock(fs.mu);
  auto node = fs.node(ino);
  if (!node) return ESTALE;
  if (!node->has_upper && times_only_flush(fs, *node, attr, to_set)) {
    // The writeback cache flushes the times it keeps for an inode (after unlink, rename, ...):
    // an unchanged mtime on a lower file, or anything on a lower file that is gone, is no
    // change and must not copy the file up (or bring it back).
    *timeout = fs.timeout_for(*node);
    return fs.stat_node(*node, out);
  }
  if (int err = fs.copy_up(*node)) return err;
  PinnedFd upper = fs.upper_fd(*node);
  if (!upper) return upper.error();
  int fd = upper.get();
  std::string path = proc_fd_path(fd);
  bool symlink = S_ISLNK(node->type);
  if (to_set & FUSE_SET_ATTR_MODE) {
    if (symlink) return EOPNOTSUPP;
    if (::chmod(path.c_str(), attr->st_mode & 07777) < 0) return errno;
  }
  if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : static_cast<uid_t>(-1);
    gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : static_cast<gid_t>(-1);
    if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) return errno;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    if (!S_ISREG(node->type)) return EINVAL;
    UniqueFd w(reopen_fd(fd, O_WRONLY));
    if (!w) return EIO;
    if (::ftruncate(w.get(), attr->st_size) < 0) return errno;
  }
  // FUSE_HANDLE_KILLPRIV_V2 (fs/killpriv.h): the kernel marks truncates by unprivileged callers
  // and chowns of non-directories; a chown of the upper copy has cleared the bits already.
  if (fs.killpriv && (to_set & FUSE_SET_ATTR_KILL_SUID) && !(to_set & FUSE_SET_ATTR_MODE)) {
    if (int err = clear_suid_sgid(fd)) return err;
  }
  if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
    struct timespec times[2];
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_nsec = UTIME_OMIT;
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
      times[0].tv_nsec = UTIME_NOW;
    } else if (to_set & FUSE_SET_ATTR_ATIME) {
      times[0] = attr->st_atim;
    }
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
      times[1].tv_nsec = UTIME_NOW;
    } else if (to_set & FUSE_SET_ATTR_MTIME) {
      times[1] = attr->st_mtim;
    }
    int res = 0;
    if (symlink) {
      PinnedFd dir = fs.upper_fd(*node->parent);
      if (!dir) return dir.error();
      res = ::utimensat(dir.get(), node->name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    } else {
      res = ::utimensat(AT_FDCWD, path.c_str(), times, 0);
    }
    if (res < 0) return errno;
  }
  *timeout = fs.timeout_for(*node);
  return fs.stat_node(*node, out);
}

void sfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  struct stat st;
  double timeout = 0;
  int err = do_setattr(req, ino, attr, to_set, &st, &timeout);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_attr(req, &st, timeout);
  }
}

int do_readlink(fuse_req_t req, fuse_ino_t ino, std::string* out) {
  Filesystem& fs = fs_of(req);
  std::lock_guard lock(fs.mu);
  auto node = fs.node(ino);
  if (!node) return ESTALE;
  PinnedFd fd = fs.top_fd(*node);
  if (!fd) return fd.error();
  std::vector<char> buf(PATH_MAX + 1);
  ssize_t n = ::readlinkat(fd.get(), "", buf.data(), buf.size());
  if (n < 0) return errno;
  out->assign(buf.data(), static_cast<size_t>(n));
  return 0;
}

void sfs_readlink(fuse_req_t req, fuse_ino_t ino) {
  std::string target;
  int err = do_readlink(req, ino, &target);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_readlink(req, target.c_str());
  }
}

// mknod, mkdir, symlink: create name in the upper of parent as the caller, then look it up.
int do_make(fuse_req_t req, fuse_ino_t parent, const std::string& name, mode_t mode, dev_t rdev,
            const char* link_target, fuse_entry_param* e) {
  Filesystem& fs = fs_of(req);
  if (int err = check_new_name(name)) return err;
  std::lock_guard lock(fs.mu);
  if (!fs.writable()) return EROFS;
  auto dir = fs.node(parent);
  if (!dir) return ESTALE;
  Resolved r;
  if (int err = fs.resolve(*dir, name, &r)) return err;
  if (r.exists) return EEXIST;
  bool opaque = false;
  if (int err = fs.prepare_create(*dir, name, &opaque)) return err;
  PinnedFd dir_fd = fs.upper_fd(*dir);
  if (!dir_fd) return dir_fd.error();
  int d = dir_fd.get();
  int res = 0;
  if (link_target) {
    res = ::symlinkat(link_target, d, name.c_str());
  } else if (S_ISDIR(mode)) {
    res = ::mkdirat(d, name.c_str(), 0700);
  } else {
    res = ::mknodat(d, name.c_str(), (mode & S_IFMT) | 0600, rdev);
  }
  if (res < 0) return errno;
  fs.set_owner(d, name, fuse_req_ctx(req));
  if (!link_target) {
    UniqueFd fd(::openat(d, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return errno;
    // Exactly the mode asked for (the kernel applied the caller's umask); not our own umask.
    if (::chmod(proc_fd_path(fd.get()).c_str(), mode & 07777) < 0) return errno;
    if (S_ISDIR(mode) && opaque) {
      if (int err = make_opaque(fd.get(), fs.style())) return err;
    }
  }
  Resolved created;
  if (int err = fs.resolve(*dir, name, &created)) return err;
  if (!created.exists) return EIO;
  auto node = fs.instantiate(dir, name, std::move(created));
  if (int err = fill_entry(fs, *node, e)) {
    fs.forget(node->ino, 1);
    return err;
  }
  return 0;
}

void reply_make(fuse_req_t req, int err, const fuse_entry_param& e) {
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_entry(req, &e);
  }
}

void sfs_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  fuse_entry_param e;
  int err = S_ISDIR(mode) ? EINVAL : do_make(req, parent, name, mode, rdev, nullptr, &e);
  reply_make(req, err, e);
}

void sfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  fuse_entry_param e;
  reply_make(req, do_make(req, parent, name, S_IFDIR | (mode & 07777), 0, nullptr, &e), e);
}

void sfs_symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  fuse_entry_param e;
  reply_make(req, do_make(req, parent, name, S_IFLNK | 0777, 0, link, &e), e);
}

}  // namespace

void add_entry_ops(fuse_lowlevel_ops* ops) {
  ops->lookup = sfs_lookup;
  ops->forget = sfs_forget;
  ops->forget_multi = sfs_forget_multi;
  ops->getattr = sfs_getattr;
  ops->setattr = sfs_setattr;
  ops->readlink = sfs_readlink;
  ops->mknod = sfs_mknod;
  ops->mkdir = sfs_mkdir;
  ops->symlink = sfs_symlink;
}

}  // namespace imgbuild::fs
