// open, create, read, write, flush, release, fsync, fallocate, and the session's init.
//
// Lower files are read straight from their own fd (spliced to the kernel when it allows) with the
// page cache kept across opens; a file is copied up when opened for writing. With the writeback
// cache the kernel may read through a handle opened write-only and implements O_APPEND itself,
// so handles are opened O_RDWR and without O_APPEND (as passthrough_hp does).
//
// On a passthrough connection (fs/passthrough.h) an open of an upper file is a passthrough open:
// the kernel does its I/O on the upper copy itself. Opens of lower files on a writable mount stay
// cached (their pages are kept, and a handle opened before a copy-up must see the copy's writes,
// which only this process can arrange; a read-only mount passes them through as well), and so
// does every open of a node that still has cached handles, because the kernel refuses to mix the
// two kinds on one inode.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/sys.h"
#include "fs/fuse_ops.h"
#include "fs/killpriv.h"
#include "fs/passthrough.h"
#include "fs/uring_transport.h"
#include "fs/whiteout.h"

namespace imgbuild::fs {

namespace {

// Makes h a passthrough handle when node allows it (see the file comment). Call with fs.mu held.
void choose_io_mode(Filesystem& fs, Node& node, FileHandle& h) {
  // On a read-only mount nothing is ever copied up, so lower files can be passed through too.
  bool fixed = node.has_upper || !fs.writable();
  if (fs.passthrough && fixed && node.cached_opens == 0 && !h.kill_suid_sgid) {
    if (node.backing_id == 0) {
      int id = passthrough::open_backing(fs.fuse_fd, h.fd.get());
      if (id > 0) node.backing_id = id;
    }
    if (node.backing_id > 0) {
      h.backing_id = node.backing_id;
      ++node.passthrough_opens;
      return;
    }
  }
  ++node.cached_opens;
}

int open_flags(const Filesystem& fs, int flags) {
  flags &= ~(O_CREAT | O_EXCL | O_NOCTTY);
  if (fs.writeback) {
    if ((flags & O_ACCMODE) == O_WRONLY) flags = (flags & ~O_ACCMODE) | O_RDWR;
    flags &= ~O_APPEND;
  }
  return flags;
}

// On a FUSE_HANDLE_KILLPRIV_V2 connection, whether writes through a handle opened with flags by
// the caller of req on a file of this mode must clear setuid/setgid (fs/killpriv.h).
bool must_kill_suid_sgid(fuse_req_t req, const Filesystem& fs, int flags, mode_t mode) {
  return fs.killpriv && (flags & O_ACCMODE) != O_RDONLY && kills_on_write(mode) &&
         fuse_req_ctx(req)->uid != 0;
}

// A handle that must clear setuid/setgid on write is a cached one, so its writes come here; on a
// node whose handles are passed through already it cannot be (the kernel refuses mixing the
// kinds), so the bits are cleared at open instead. Call with fs.mu held.
int prepare_kill_suid_sgid(Node& node, FileHandle& h) {
  if (!h.kill_suid_sgid || node.passthrough_opens == 0) return 0;
  h.kill_suid_sgid = false;
  return clear_suid_sgid(h.fd.get());
}

int do_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Filesystem& fs = fs_of(req);
  if (int err = fill_lazy(fs, ino)) return err;
  std::lock_guard lock(fs.mu);
  auto node = fs.node(ino);
  if (!node) return ESTALE;
  bool write = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
  if (write) {
    if (!fs.writable()) return EROFS;
    if (int err = fs.copy_up(*node)) return err;
  }
  int fd = fs.open_top(*node, open_flags(fs, fi->flags));
  if (fd < 0) return -fd;
  auto h = std::make_unique<FileHandle>();
  h->node = node;
  h->fd.reset(fd);
  h->lower = !node->has_upper;
  h->flags = fi->flags;
  if (fs.killpriv && write && fuse_req_ctx(req)->uid != 0) {
    struct stat st;
    if (::fstat(fd, &st) == 0) {
      h->kill_suid_sgid = must_kill_suid_sgid(req, fs, fi->flags, st.st_mode);
    }
    if (int err = prepare_kill_suid_sgid(*node, *h)) return err;
  }
  bool had_cached = node->cached_opens > 0;
  choose_io_mode(fs, *node, *h);
  // Every change to a file goes through this mount, so cached pages stay valid across opens
  // (and a lower file's pages equal its copy-up's); but an upper file's pages may predate writes
  // made through passthrough handles, unless cached handles have been open all along.
  fi->keep_cache = !fs.passthrough || !fs.writable() || !node->has_upper || had_cached;
  // flush does nothing here (no locks to drop, nothing buffered): spare the request per close.
  fi->noflush = 1;
  fs.add_handle(h.get());
  fi->fh = reinterpret_cast<uint64_t>(h.release());
  return 0;
}

}  // namespace

int fill_lazy(Filesystem& fs, fuse_ino_t ino) {
  size_t layer = 0;
  std::string path;
  {
    std::lock_guard lock(fs.mu);
    auto node = fs.node(ino);
    if (!node || !fs.lazy_file(*node, &layer)) return 0;
    path = node->lower_path;
  }
  return fs.options().fill_lazy(layer, path);
}

int fill_lazy_entry(Filesystem& fs, fuse_ino_t parent, const std::string& name) {
  size_t layer = 0;
  std::string path;
  {
    std::lock_guard lock(fs.mu);
    auto dir = fs.node(parent);
    Resolved r;
    if (!dir || fs.resolve(*dir, name, &r) != 0 || !r.exists || r.upper || r.lowers.empty() ||
        !S_ISREG(r.st.st_mode)) {
      return 0;
    }
    layer = static_cast<size_t>(r.lowers[0]);
    if (!fs.lazy_layer(layer)) return 0;
    path = dir->lower_path.empty() ? name : dir->lower_path + "/" + name;
  }
  return fs.options().fill_lazy(layer, path);
}

namespace {

void reply_opened(fuse_req_t req, fuse_file_info* fi, const fuse_entry_param* e) {
  FileHandle* h = handle_of(fi);
  if (h->backing_id) {
    if (e) {
      passthrough::reply_create(req, *e, *fi, h->backing_id);
    } else {
      passthrough::reply_open(req, *fi, h->backing_id);
    }
  } else if (e) {
    fuse_reply_create(req, e, fi);
  } else {
    fuse_reply_open(req, fi);
  }
}

void sfs_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  int err = do_open(req, ino, fi);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    reply_opened(req, fi, nullptr);
  }
}

int do_create(fuse_req_t req, fuse_ino_t parent, const std::string& name, mode_t mode,
              fuse_file_info* fi, fuse_entry_param* e) {
  Filesystem& fs = fs_of(req);
  if (int err = check_new_name(name)) return err;
  std::lock_guard lock(fs.mu);
  if (!fs.writable()) return EROFS;
  auto dir = fs.node(parent);
  if (!dir) return ESTALE;
  Resolved r;
  if (int err = fs.resolve(*dir, name, &r)) return err;
  if (r.exists) return EEXIST;  // the kernel only sends create for names it found missing
  bool opaque = false;
  if (int err = fs.prepare_create(*dir, name, &opaque)) return err;
  PinnedFd dir_fd = fs.upper_fd(*dir);
  if (!dir_fd) return dir_fd.error();
  int d = dir_fd.get();
  UniqueFd fd(
      ::openat(d, name.c_str(), open_flags(fs, fi->flags) | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return errno;
  fs.set_owner(d, name, fuse_req_ctx(req));
  if (::fchmod(fd.get(), mode & 07777) < 0) return errno;
  Resolved created;
  if (int err = fs.resolve(*dir, name, &created)) return err;
  if (!created.exists) return EIO;
  auto node = fs.instantiate(dir, name, std::move(created));
  if (int err = fill_entry(fs, *node, e)) {
    fs.forget(node->ino, 1);
    return err;
  }
  auto h = std::make_unique<FileHandle>();
  h->node = node;
  h->fd = std::move(fd);
  h->flags = fi->flags;
  h->kill_suid_sgid = must_kill_suid_sgid(req, fs, fi->flags, S_IFREG | mode);
  choose_io_mode(fs, *node, *h);
  fi->keep_cache = 1;
  fi->noflush = 1;
  fs.add_handle(h.get());
  fi->fh = reinterpret_cast<uint64_t>(h.release());
  return 0;
}

void sfs_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                fuse_file_info* fi) {
  fuse_entry_param e;
  int err = do_create(req, parent, name, mode, fi, &e);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    reply_opened(req, fi, &e);
  }
}

// The fd to do I/O on: a handle opened on a lower file that has since been copied up switches to
// the upper copy, so it sees writes made through other handles.
int io_fd(fuse_req_t req, FileHandle* h) {
  if (!h->lower || !h->node->in_upper.load()) return h->fd.get();
  Filesystem& fs = fs_of(req);
  std::lock_guard lock(fs.mu);
  std::lock_guard hlock(h->mu);
  if (!h->upper_fd) {
    PinnedFd upper = fs.upper_fd(*h->node);
    int fd = upper ? reopen_fd(upper.get(), O_RDONLY) : -1;
    if (fd < 0) return h->fd.get();
    h->upper_fd.reset(fd);
  }
  return h->upper_fd.get();
}

void sfs_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  FileHandle* h = handle_of(fi);
  int fd = io_fd(req, h);
  // A request from the FUSE ring is answered from the ring entry's buffer: read straight into it
  // (fuse_reply_data would read into a buffer of libfuse's and copy that).
  if (char* dst = uring_reply_buffer(size)) {
    size_t n = 0;
    while (n < size) {
      auto got =
          sys::pread_some(fd, std::span<char>(dst + n, size - n), off + static_cast<off_t>(n));
      if (!got && n > 0) break;  // as libfuse: what was read, then the error on the next read
      if (!got) {
        fuse_reply_err(req, got.error().errno_value() ? got.error().errno_value() : EIO);
        return;
      }
      if (*got == 0) break;
      n += *got;
    }
    fuse_reply_buf(req, dst, n);
    return;
  }
  fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
  buf.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  buf.buf[0].fd = fd;
  buf.buf[0].pos = off;
  fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void sfs_write_buf(fuse_req_t req, fuse_ino_t, fuse_bufvec* in, off_t off, fuse_file_info* fi) {
  FileHandle* h = handle_of(fi);
  fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
  out.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  out.buf[0].fd = io_fd(req, h);
  out.buf[0].pos = off;
  ssize_t n = fuse_buf_copy(&out, in, FUSE_BUF_SPLICE_NONBLOCK);
  if (n > 0 && h->kill_suid_sgid) {
    Filesystem& fs = fs_of(req);
    // The kernel keeps the mode it knew (it left clearing to us): make it ask again before the
    // caller's write returns, so no exec sees the old bits.
    if (clear_suid_sgid(out.buf[0].fd) == 0 && fs.session) {
      fuse_lowlevel_notify_inval_inode(fs.session, h->node->ino, -1, 0);
    }
  }
  if (n < 0) {
    fuse_reply_err(req, static_cast<int>(-n));
  } else {
    fuse_reply_write(req, static_cast<size_t>(n));
  }
}

void sfs_flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

void sfs_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  std::unique_ptr<FileHandle> h(handle_of(fi));
  {
    Filesystem& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    fs.remove_handle(h.get());
    Node& node = *h->node;
    if (!h->backing_id) {
      --node.cached_opens;
    } else if (--node.passthrough_opens == 0) {
      // The kernel let go of the backing file before it sent this release.
      passthrough::close_backing(fs.fuse_fd, node.backing_id);
      node.backing_id = 0;
    }
  }
  fuse_reply_err(req, 0);
}

void sfs_fsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
  int fd = io_fd(req, handle_of(fi));
  int res = datasync ? ::fdatasync(fd) : ::fsync(fd);
  fuse_reply_err(req, res < 0 ? errno : 0);
}

void sfs_fallocate(fuse_req_t req, fuse_ino_t, int mode, off_t offset, off_t length,
                   fuse_file_info* fi) {
  int res = ::fallocate(io_fd(req, handle_of(fi)), mode, offset, length);
  fuse_reply_err(req, res < 0 ? errno : 0);
}

void sfs_lseek(fuse_req_t req, fuse_ino_t, off_t off, int whence, fuse_file_info* fi) {
  off_t res = ::lseek(io_fd(req, handle_of(fi)), off, whence);
  if (res < 0) {
    fuse_reply_err(req, errno);
  } else {
    fuse_reply_lseek(req, res);
  }
}

void sfs_init(void* userdata, fuse_conn_info* conn) {
  auto* fs = static_cast<Filesystem*>(userdata);
  auto want = [conn](unsigned cap) {
    if (conn->capable & cap) conn->want |= cap;
  };
  // Writeback caching only where there is something to write back; with it the kernel owns
  // file sizes and mtimes between our replies, which is right since only it changes the upper.
  // The kernel refuses passthrough together with it.
  if (fs->writable() && !fs->passthrough) {
    want(FUSE_CAP_WRITEBACK_CACHE);
    fs->writeback = (conn->want & FUSE_CAP_WRITEBACK_CACHE) != 0;
  } else {
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  }
  want(FUSE_CAP_SPLICE_WRITE);
  want(FUSE_CAP_SPLICE_MOVE);
  want(FUSE_CAP_READDIRPLUS);
  want(FUSE_CAP_PARALLEL_DIROPS);
  want(FUSE_CAP_CACHE_SYMLINKS);
  want(FUSE_CAP_ASYNC_READ);
  // The kernel caches ACLs (also their absence) and checks permissions with them, as for kernel
  // overlayfs; otherwise every ACL read (`ls -l` does one per file) is a request here. Lowers
  // never change and every change to the upper goes through the kernel, which drops what it
  // cached on setxattr and setattr. New files get the upper parent's default ACL from the upper
  // filesystem, as they did before.
  if (fs->options().posix_acl) want(FUSE_CAP_POSIX_ACL);
  conn->want &= ~FUSE_CAP_EXPORT_SUPPORT;
}

}  // namespace

void add_file_ops(fuse_lowlevel_ops* ops) {
  ops->init = sfs_init;
  ops->open = sfs_open;
  ops->create = sfs_create;
  ops->read = sfs_read;
  ops->write_buf = sfs_write_buf;
  ops->flush = sfs_flush;
  ops->release = sfs_release;
  ops->fsync = sfs_fsync;
  ops->fallocate = sfs_fallocate;
  ops->lseek = sfs_lseek;
}

}  // namespace imgbuild::fs
