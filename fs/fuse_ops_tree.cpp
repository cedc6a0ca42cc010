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

// The existing Node (if the kernel holds one) for a resolved entry.
std::shared_ptr<Node> existing_node(Filesystem& fs, const Resolved& r) {
  dev_t dev = r.upper ? fs.upper_dev() : fs.lower_dev(r.lowers[0].layer);
  return fs.node(fs.ino_for(dev, r.st.st_ino));
}

// After a name of node was removed: a node left with no name reports st_nlink 0 (open files
// unlinked while open). Upper files tell by their own link count.
void mark_removed(const std::shared_ptr<Node>& node, const Resolved& r) {
  if (!node) return;
  if (node->upper) {
    struct stat st;
    if (::fstatat(node->upper.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 &&
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

int do_remove(fuse_req_t req, fuse_ino_t parent, const std::string& name, bool rmdir) {
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
  if (int err = fs.remove_entry(*dir, name, r)) return err;
  mark_removed(node, r);
  return 0;
}

void sfs_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fuse_reply_err(req, do_remove(req, parent, name, false));
}

void sfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fuse_reply_err(req, do_remove(req, parent, name, true));
}

int do_rename(fuse_req_t req, fuse_ino_t parent, const std::string& name, fuse_ino_t newparent,
              const std::string& newname, unsigned flags) {
  Filesystem& fs = fs_of(req);
  if (flags & ~static_cast<unsigned>(RENAME_NOREPLACE)) return EINVAL;  // RENAME_EXCHANGE etc.
  if (int err = check_new_name(newname)) return err;
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
  int to = newdir->upper.get();
  bool opaque = false;
  if (dst.exists) {
    if (dst.upper) {
      bool dst_dir = S_ISDIR(dst.st.st_mode);
      if (dst_dir) {
        if (int err = clear_markers(dst.upper.get())) return err;
      }
      if (::unlinkat(to, newname.c_str(), dst_dir ? AT_REMOVEDIR : 0) < 0) return errno;
      if (dst_dir || dst.st.st_nlink <= 1) fs.forget_ino(fs.upper_dev(), dst.st.st_ino);
    }
    if (dst.lower_visible) opaque = true;
    mark_removed(dst_node, dst);
  }
  bool had_whiteout = false;
  if (int err = fs.prepare_create(*newdir, newname, &had_whiteout)) return err;
  opaque = opaque || had_whiteout;
  if (::renameat(olddir->upper.get(), name.c_str(), to, newname.c_str()) < 0) return errno;
  if (src_lower_visible) {
    if (int err = make_whiteout(olddir->upper.get(), name, fs.style())) return err;
  }
  if (src_dir && opaque && !is_opaque_dir(node->upper.get())) {
    if (int err = make_opaque(node->upper.get(), fs.style())) return err;
  }
  node->parent = newdir;
  node->name = newname;
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
  if (::linkat(node->upper.get(), "", dir->upper.get(), newname.c_str(), AT_EMPTY_PATH) < 0) {
    return errno;
  }
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
