// unlink, rmdir, rename, link: the operations that remove or move names, leaving whiteouts where
// lower entries were and opaque markers where a directory replaces one.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "fs/dir_listing.h"
#include "fs/fuse_ops.h"
#include "fs/whiteout.h"

namespace imgbuild::fs {

namespace {

// unlink (anything but a directory) or rmdir.
enum class RemoveKind { kNonDirectory, kDirectory };

// The existing Node (if anything still holds one) for a resolved entry.
std::shared_ptr<Node> existing_node(Filesystem& fs, const Resolved& r) {
  dev_t dev = r.upper ? fs.upper_dev() : fs.lower_dev(r.lowers[0]);
  return fs.live_node(fs.ino_for(dev, r.st.st_ino));
}

// Before the name `name` in dir is removed or replaced: a node known by that name keeps its upper
// copy's fd, since the copy cannot be found by name again (it may stay open, or keep other names).
void before_name_goes(Filesystem& fs, const std::shared_ptr<Node>& node, const Node& dir,
                      const std::string& name) {
  if (node && node->parent.get() == &dir && node->name == name) fs.keep_upper_fd(*node);
}

// After a name of node was removed: a node left with no name reports st_nlink 0 (open files
// unlinked while open). Upper files tell by their own link count.
void mark_removed(Filesystem& fs, const std::shared_ptr<Node>& node, const Resolved& r) {
  if (!node) return;
  if (node->has_upper) {
    PinnedFd fd = fs.upper_fd(*node);
    struct stat st;
    if (fd && ::fstatat(fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 &&
        st.st_nlink > 0 && !S_ISDIR(st.st_mode)) {
      return;
    }
  } else if (!S_ISDIR(r.st.st_mode) && r.st.st_nlink > 1) {
    return;
  }
  node->unlinked = true;
}

int dir_is_empty(Filesystem& fs, const std::shared_ptr<Node>& parent, const std::string& name) {
  Resolved r;
  if (int err = fs.resolve(*parent, name, &r)) return err;
  auto dir = fs.peek(parent, name, std::move(r));
  std::vector<DirEntry> entries;
  int err = list_dir(fs, *dir, &entries);
  fs.release_unused(dir);
  if (err) return err;
  return entries.empty() ? 0 : ENOTEMPTY;
}

int do_remove(fuse_req_t req, fuse_ino_t parent, const std::string& name, RemoveKind kind) {
  bool rmdir = kind == RemoveKind::kDirectory;
  Filesystem& fs = fs_of(req);
  std::lock_guard lock(fs.mu);
  auto dir = fs.node(parent);
  if (!dir) return ESTALE;
  Resolved r;
  if (int err = fs.resolve(*dir, name, &r)) return err;
  if (!r.exists) return ENOENT;
  if (!fs.writable()) return EROFS;
  bool is_dir = S_ISDIR(r.st.st_mode);
  if (rmdir && !is_dir) return ENOTDIR;
  if (!rmdir && is_dir) return EISDIR;
  if (rmdir) {
    if (int err = dir_is_empty(fs, dir, name)) return err;
  }
  auto node = existing_node(fs, r);
  before_name_goes(fs, node, *dir, name);
  if (int err = fs.remove_entry(*dir, name, r)) return err;
  mark_removed(fs, node, r);
  return 0;
}

void sfs_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fuse_reply_err(req, do_remove(req, parent, name, RemoveKind::kNonDirectory));
}

void sfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fuse_reply_err(req, do_remove(req, parent, name, RemoveKind::kDirectory));
}

int do_rename(fuse_req_t req, fuse_ino_t parent, const std::string& name, fuse_ino_t newparent,
              const std::string& newname, unsigned flags) {
  Filesystem& fs = fs_of(req);
  if (flags & ~static_cast<unsigned>(RENAME_NOREPLACE)) return EINVAL;  // RENAME_EXCHANGE etc.
  if (int err = check_new_name(newname)) return err;
  if (int err = fill_lazy_entry(fs, parent, name)) return err;
  std::lock_guard lock(fs.mu);
  auto olddir = fs.node(parent);
  auto newdir = fs.node(newparent);
  if (!olddir || !newdir) return ESTALE;
  Resolved src;
  if (int err = fs.resolve(*olddir, name, &src)) return err;
  if (!src.exists) return ENOENT;
  if (!fs.writable()) return EROFS;
  Resolved dst;
  if (int err = fs.resolve(*newdir, newname, &dst)) return err;
  bool src_dir = S_ISDIR(src.st.st_mode);
  bool src_lower_visible = src.lower_visible;
  std::shared_ptr<Node> dst_node;
  if (dst.exists) {
    if (flags & RENAME_NOREPLACE) return EEXIST;
    dst_node = existing_node(fs, dst);
    auto src_existing = existing_node(fs, src);
    if (src_existing && src_existing == dst_node) return 0;  // two names of one file
    bool dst_dir = S_ISDIR(dst.st.st_mode);
    if (src_dir && !dst_dir) return ENOTDIR;
    if (!src_dir && dst_dir) return EISDIR;
    if (dst_dir) {
      if (int err = dir_is_empty(fs, newdir, newname)) return err;
    }
  }
  // A directory must not move below itself.
  if (src_dir) {
    auto moving = existing_node(fs, src);
    for (auto p = newdir; p; p = p->parent) {
      if (moving && p == moving) return EINVAL;
    }
  }
  auto node = fs.peek(olddir, name, std::move(src));
  // A moved directory is copied up as a whole (and made opaque) so that what it holds no longer
  // depends on lower directories at its old path.
  if (int err = src_dir ? fs.copy_up_tree(node) : fs.copy_up(*node)) return err;
  if (int err = fs.copy_up(*newdir)) return err;
  PinnedFd from = fs.upper_fd(*olddir);
  PinnedFd to = fs.upper_fd(*newdir);
  if (!from || !to) return from ? to.error() : from.error();
  bool opaque = false;
  if (dst.exists) {
    if (dst.upper) {
      bool dst_dir = S_ISDIR(dst.st.st_mode);
      if (dst_dir) {
        if (int err = clear_markers(to.get(), newname)) return err;
      }
      before_name_goes(fs, dst_node, *newdir, newname);
      if (::unlinkat(to.get(), newname.c_str(), dst_dir ? AT_REMOVEDIR : 0) < 0) return errno;
      if (dst_dir || dst.st.st_nlink <= 1) fs.forget_ino(fs.upper_dev(), dst.st.st_ino);
    }
    if (dst.lower_visible) opaque = true;
    mark_removed(fs, dst_node, dst);
  }
  bool had_whiteout = false;
  if (int err = fs.prepare_create(*newdir, newname, &had_whiteout)) return err;
  opaque = opaque || had_whiteout;
  if (::renameat(from.get(), name.c_str(), to.get(), newname.c_str()) < 0) return errno;
  // The node is found under its new name from here on (its fd, if open, is still right).
  node->parent = newdir;
  node->name = newname;
  if (src_lower_visible) {
    if (int err = make_whiteout(from.get(), name, fs.style())) return err;
  }
  if (src_dir && opaque) {
    PinnedFd moved = fs.upper_fd(*node);
    if (!moved) return moved.error();
    if (!is_opaque_dir(moved.get())) {
      if (int err = make_opaque(moved.get(), fs.style())) return err;
    }
  }
  fs.release_unused(node);
  return 0;
}

void sfs_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
                const char* newname, unsigned int flags) {
  fuse_reply_err(req, do_rename(req, parent, name, newparent, newname, flags));
}

int do_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const std::string& newname,
            fuse_entry_param* e) {
  Filesystem& fs = fs_of(req);
  if (int err = check_new_name(newname)) return err;
  if (int err = fill_lazy(fs, ino)) return err;
  std::lock_guard lock(fs.mu);
  if (!fs.writable()) return EROFS;
  auto node = fs.node(ino);
  auto dir = fs.node(newparent);
  if (!node || !dir) return ESTALE;
  if (node->is_dir()) return EPERM;
  Resolved r;
  if (int err = fs.resolve(*dir, newname, &r)) return err;
  if (r.exists) return EEXIST;
  if (int err = fs.copy_up(*node)) return err;
  bool opaque = false;
  if (int err = fs.prepare_create(*dir, newname, &opaque)) return err;
  PinnedFd file = fs.upper_fd(*node);
  PinnedFd to = fs.upper_fd(*dir);
  if (!file || !to) return file ? to.error() : file.error();
  if (::linkat(file.get(), "", to.get(), newname.c_str(), AT_EMPTY_PATH) < 0) return errno;
  ++node->nlookup;
  node->unlinked = false;
  return fill_entry(fs, *node, e);
}

void sfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  fuse_entry_param e;
  int err = do_link(req, ino, newparent, newname, &e);
  if (err) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_entry(req, &e);
  }
}

}  // namespace

void add_tree_ops(fuse_lowlevel_ops* ops) {
  ops->unlink = sfs_unlink;
  ops->rmdir = sfs_rmdir;
  ops->rename = sfs_rename;
  ops->link = sfs_link;
}

}  // namespace imgbuild::fs
