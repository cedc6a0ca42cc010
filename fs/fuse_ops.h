// The FUSE low-level callbacks, split by concern over fuse_ops_*.cpp, in the style of libfuse's
// passthrough_hp: each sfs_<op> callback calls a do_<op> that returns 0 or an errno, and only the
// callback replies. Every do_<op> that touches the namespace holds Filesystem::mu (see
// fs/union_fs.h for what it guards); data operations work on the fds in their handles.
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314  // libfuse 3.14 (Debian 12)
#endif
#include <fuse_lowlevel.h>

#include <memory>
#include <mutex>
#include <string>

#include "base/unique_fd.h"
#include "fs/union_fs.h"

namespace imgbuild::fs {

// The callbacks of each file, added to ops.
void add_entry_ops(fuse_lowlevel_ops* ops);  // lookup, forget, getattr, setattr, create-like ops
void add_tree_ops(fuse_lowlevel_ops* ops);   // unlink, rmdir, rename, link
void add_dir_ops(fuse_lowlevel_ops* ops);    // opendir, readdir(plus), statfs, xattrs, access
void add_file_ops(fuse_lowlevel_ops* ops);   // open, create, read, write, fsync, release

inline Filesystem& fs_of(fuse_req_t req) {
  return *static_cast<Filesystem*>(fuse_req_userdata(req));
}

// Fills e for node with its attributes and cache timeouts. 0 or errno.
int fill_entry(Filesystem& fs, Node& node, fuse_entry_param* e);

// Gives a still unfetched regular file of a lazy layer its bytes (MountOptions::fill_lazy) before
// an operation that opens it or may copy it up: the node ino, or the name in the directory
// parent. Call WITHOUT fs.mu (a fetch takes time); Filesystem::copy_up fills under mu whatever
// was not filled before. 0 or errno.
int fill_lazy(Filesystem& fs, fuse_ino_t ino);
int fill_lazy_entry(Filesystem& fs, fuse_ino_t parent, const std::string& name);

// Checks a name that is about to be created: ENAMETOOLONG, or EPERM for marker names.
int check_new_name(const std::string& name);

// An open regular file. fd is what it was opened as (the lower copy for a read-only open of a
// lower file); upper_fd is opened lazily when the node was copied up after the open, so reads
// see writes made through other handles. Both fds live until release.
struct FileHandle {
  std::shared_ptr<Node> node;
  UniqueFd fd;
  bool lower = false;
  int flags = 0;
  std::mutex mu;  // guards upper_fd; taken after Filesystem::mu
  UniqueFd upper_fd;
  // Non-zero for a passthrough handle: the backing id (node->backing_id when opened) the kernel
  // does this handle's I/O on (fs/passthrough.h).
  int backing_id = 0;
  // Writes must clear setuid/setgid (fs/killpriv.h): a cached handle opened for writing by an
  // unprivileged caller on such a file, on a FUSE_HANDLE_KILLPRIV_V2 connection.
  bool kill_suid_sgid = false;
};

inline FileHandle* handle_of(fuse_file_info* fi) { return reinterpret_cast<FileHandle*>(fi->fh); }

}  // namespace imgbuild::fs
