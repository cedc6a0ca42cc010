// opendir, readdir, readdirplus, releasedir, fsyncdir, statfs, xattrs, access.
//
// A directory handle holds a snapshot of the merged listing taken at the first readdir (and again
// at rewinddir), so offsets (an index into it) stay valid across seekdir/telldir whatever changes
// meanwhile, and a walk of a huge directory sees each name once, in one stable order.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "fs/dir_listing.h"
#include "fs/fuse_ops.h"
#include "fs/whiteout.h"
#include "image/estargz_skeleton.h"

namespace imgbuild::fs {

namespace {

// readdir (names only) or readdirplus (names with attributes and lookups).
enum class ReaddirKind { kNames, kPlus };
// getxattr (one value) or listxattr (the names).
enum class XattrRead { kValue, kList };
// setxattr or removexattr.
enum class XattrWrite { kSet, kRemove };

struct DirHandle {
  std::shared_ptr<Node> node;
  std::mutex mu;  // guards entries and started; taken after Filesystem::mu
  std::vector<DirEntry> entries;
  bool started = false;
};

DirHandle* dir_handle(fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

int do_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  std::lock_guard lock(fs.mu);
  auto node = fs.node(ino);
  if (!node) return ESTALE;
  if (!node->is_dir()) return ENOTDIR;
  // The listing is made at the first readdir: when the kernel serves a cached listing, an
  // opendir costs nothing here.
  auto handle = std::make_unique<DirHandle>();
  handle->node = node;
  fi->fh = reinterpret_cast<uint64_t>(handle.release());
  return 0;
}

void sfs_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  int err = do_opendir(req, ino, fi);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    // The kernel may keep listings: lower directories never change, and every change to an
    // upper one goes through the kernel, which drops the cached listing of a changed directory.
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
  }
}

// Offsets: 1 after ".", 2 after "..", 2 + i + 1 after entries[i].
int do_readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t offset, fuse_file_info* fi,
               ReaddirKind kind, std::vector<char>* buf) {
  Filesystem& fs = fs_of(req);
  DirHandle* h = dir_handle(fi);
  std::lock_guard lock(fs.mu);
  std::lock_guard hlock(h->mu);
  if (!h->started || offset == 0) {
    if (int err = list_dir(fs, *h->node, &h->entries)) return err;  // first read, or rewinddir
  }
  h->started = true;
  buf->resize(size);
  size_t used = 0;
  Node& dir = *h->node;
  for (off_t i = offset; i < static_cast<off_t>(h->entries.size()) + 2; ++i) {
    std::string name;
    fuse_entry_param e;
    std::memset(&e, 0, sizeof(e));
    std::shared_ptr<Node> child;
    if (i < 2) {
      name = i == 0 ? "." : "..";
      e.attr.st_ino = i == 0 || !dir.parent ? dir.ino : dir.parent->ino;
      e.attr.st_mode = S_IFDIR;
    } else {
      const DirEntry& entry = h->entries[static_cast<size_t>(i - 2)];
      name = entry.name;
      e.attr.st_ino = entry.ino;
      e.attr.st_mode = static_cast<mode_t>(DTTOIF(entry.type));
      if (kind == ReaddirKind::kPlus) {
        Resolved r;
        // A name removed since the snapshot is still listed, without attributes (ino 0 tells
        // the kernel not to make a dentry from it).
        if (fs.resolve(dir, name, &r) == 0 && r.exists) {
          child = fs.instantiate(h->node, name, std::move(r));
          if (fill_entry(fs, *child, &e) != 0) {
            fs.forget(child->ino, 1);
            child.reset();
            std::memset(&e, 0, sizeof(e));
            e.attr.st_ino = entry.ino;
            e.attr.st_mode = static_cast<mode_t>(DTTOIF(entry.type));
          }
        }
      }
    }
    size_t room = size - used;
    size_t n = kind == ReaddirKind::kPlus
                   ? fuse_add_direntry_plus(req, buf->data() + used, room, name.c_str(), &e, i + 1)
                   : fuse_add_direntry(req, buf->data() + used, room, name.c_str(), &e.attr, i + 1);
    if (n > room) {
      if (child) fs.forget(child->ino, 1);  // not sent: the kernel did not get this lookup
      break;
    }
    used += n;
  }
  buf->resize(used);
  return 0;
}

void reply_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi,
                   ReaddirKind kind) {
  std::vector<char> buf;
  int err = do_readdir(req, ino, size, offset, fi, kind, &buf);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_buf(req, buf.data(), buf.size());
  }
}

void sfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi) {
  reply_readdir(req, ino, size, offset, fi, ReaddirKind::kNames);
}

void sfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
                     fuse_file_info* fi) {
  reply_readdir(req, ino, size, offset, fi, ReaddirKind::kPlus);
}

void sfs_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete dir_handle(fi);
  fuse_reply_err(req, 0);
}

void sfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  Filesystem& fs = fs_of(req);
  int err = 0;
  {
    std::lock_guard lock(fs.mu);
    auto node = fs.node(ino);
    if (node && node->has_upper) {
      PinnedFd upper = fs.upper_fd(*node);
      UniqueFd fd(upper ? reopen_fd(upper.get(), O_RDONLY | O_DIRECTORY) : -1);
      if (fd && ::fsync(fd.get()) < 0) err = errno;
    }
  }
  fuse_reply_err(req, err);
}

void sfs_statfs(fuse_req_t req, fuse_ino_t) {
  Filesystem& fs = fs_of(req);
  struct statvfs st;
  int err = 0;
  {
    std::lock_guard lock(fs.mu);
    PinnedFd root = fs.top_fd(*fs.node(FUSE_ROOT_ID));
    if (::fstatvfs(root.get(), &st) < 0) err = errno;
  }
  if (err) {
    fuse_reply_err(req, err);
  } else {
    st.f_namemax = NAME_MAX;
    fuse_reply_statfs(req, &st);
  }
}

bool internal_xattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.") ||
         name == image::kLazyXattr || name == image::kLazyDirXattr;
}

// xattrs are read and written through /proc/self/fd paths (Filesystem::top_path); symlinks and
// special files (which Linux does not give user xattrs anyway) are not supported. The kernel
// caches ACLs (FUSE_POSIX_ACL) but no other xattr: `ls -l` still asks for security.selinux once
// per file each time.
int do_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size,
                std::vector<char>* value, size_t* len, XattrRead what) {
  bool list = what == XattrRead::kList;
  Filesystem& fs = fs_of(req);
  if (!list && internal_xattr(name)) return ENODATA;
  std::lock_guard lock(fs.mu);
  auto node = fs.node(ino);
  if (!node) return ESTALE;
  if (!S_ISREG(node->type) && !S_ISDIR(node->type)) return list ? 0 : ENODATA;
  std::optional<PinnedFd> hold;
  int err = 0;
  std::string path = fs.top_path(*node, &hold, &err);
  if (path.empty()) return err;
  value->resize(list ? (size ? size : 65536) : size);
  ssize_t n = list ? ::listxattr(path.c_str(), value->data(), value->size())
                   : ::getxattr(path.c_str(), name, value->data(), value->size());
  if (n < 0) return errno;
  if (list) {
    std::vector<char> out;
    for (ssize_t off = 0; off < n;) {
      std::string_view key(value->data() + off);
      off += static_cast<ssize_t>(key.size()) + 1;
      if (internal_xattr(key)) continue;
      out.insert(out.end(), key.begin(), key.end());
      out.push_back('\0');
    }
    if (size && out.size() > size) return ERANGE;
    *value = std::move(out);
    n = static_cast<ssize_t>(value->size());
  }
  *len = static_cast<size_t>(n);
  return 0;
}

void reply_xattr(fuse_req_t req, int err, size_t size, const std::vector<char>& value, size_t len) {
  if (err) {
    fuse_reply_err(req, err);
  } else if (size == 0) {
    fuse_reply_xattr(req, len);
  } else {
    fuse_reply_buf(req, value.data(), len);
  }
}

void sfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  std::vector<char> value;
  size_t len = 0;
  int err = do_getxattr(req, ino, name, size, &value, &len, XattrRead::kValue);
  reply_xattr(req, err, size, value, len);
}

void sfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  std::vector<char> value;
  size_t len = 0;
  int err = do_getxattr(req, ino, nullptr, size, &value, &len, XattrRead::kList);
  reply_xattr(req, err, size, value, len);
}

int do_setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags, XattrWrite what) {
  bool remove = what == XattrWrite::kRemove;
  Filesystem& fs = fs_of(req);
  if (internal_xattr(name)) return EPERM;
  if (!remove) {
    if (int err = fill_lazy(fs, ino)) return err;
  }
  std::lock_guard lock(fs.mu);
  auto node = fs.node(ino);
  if (!node) return ESTALE;
  if (!S_ISREG(node->type) && !S_ISDIR(node->type)) return EPERM;
  if (remove) {
    // Removing an attribute that is not there changes nothing: no copy-up for it.
    std::optional<PinnedFd> hold;
    int err = 0;
    std::string path = fs.top_path(*node, &hold, &err);
    if (path.empty()) return err;
    if (::getxattr(path.c_str(), name, nullptr, 0) < 0) return errno;
  }
  if (int err = fs.copy_up(*node)) return err;
  PinnedFd upper = fs.upper_fd(*node);
  if (!upper) return upper.error();
  std::string path = proc_fd_path(upper.get());
  int res = remove ? ::removexattr(path.c_str(), name)
                   : ::setxattr(path.c_str(), name, value, size, flags);
  return res < 0 ? errno : 0;
}

void sfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                  int flags) {
  fuse_reply_err(req, do_setxattr(req, ino, name, value, size, flags, XattrWrite::kSet));
}

void sfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  fuse_reply_err(req, do_setxattr(req, ino, name, nullptr, 0, 0, XattrWrite::kRemove));
}

void sfs_access(fuse_req_t req, fuse_ino_t ino, int mask) {
  Filesystem& fs = fs_of(req);
  int err = 0;
  {
    std::lock_guard lock(fs.mu);
    auto node = fs.node(ino);
    if (!node) {
      err = ESTALE;
    } else if ((mask & W_OK) && !fs.writable()) {
      err = EROFS;
    } else {
      struct stat st;
      err = fs.stat_node(*node, &st);
      const fuse_ctx* ctx = fuse_req_ctx(req);
      if (!err && ctx->uid != 0) {
        mode_t bits = st.st_uid == ctx->uid   ? (st.st_mode >> 6)
                      : st.st_gid == ctx->gid ? (st.st_mode >> 3)
                                              : st.st_mode;
        if ((static_cast<mode_t>(mask) & 7 & ~bits) != 0) err = EACCES;
      }
    }
  }
  fuse_reply_err(req, err);
}

}  // namespace

void add_dir_ops(fuse_lowlevel_ops* ops) {
  ops->opendir = sfs_opendir;
  ops->readdir = sfs_readdir;
  ops->readdirplus = sfs_readdirplus;
  ops->releasedir = sfs_releasedir;
  ops->fsyncdir = sfs_fsyncdir;
  ops->statfs = sfs_statfs;
  ops->getxattr = sfs_getxattr;
  ops->listxattr = sfs_listxattr;
  ops->setxattr = sfs_setxattr;
  ops->removexattr = sfs_removexattr;
  ops->access = sfs_access;
}

}  // namespace imgbuild::fs
