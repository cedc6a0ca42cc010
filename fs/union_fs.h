// The union filesystem's state: the layers, the inode table and the name resolution, copy-up and
// whiteout logic that the FUSE callbacks (fuse_ops*.cpp) build on. Internal to fs/.
//
// Inodes: every Node has one number, used both as the FUSE node id and as st_ino. Numbers are
// assigned per underlying file, keyed by (st_dev, st_ino) of the topmost copy, and never reused
// while mounted; copy-up records the upper copy under the same number, so a file keeps its
// st_ino when it moves from a lower layer to the upper. Hard links in one layer share a Node, and
// a number has at most one Node object at a time (live_), so a node's parent is never a stale
// duplicate of a directory that was renamed since.
//
// Descriptors: a Node holds no fd of its own. Its copies are found again by name: every lower copy
// lives at Node::lower_path in its layer (lower layers never change), the upper copy at the
// parent's upper copy + Node::name (checked against the copy's inode number when reopened). Their
// O_PATH fds are opened on demand and cached in a bounded LRU (fs/fd_cache.h), so the fds a mount
// holds do not grow with the inodes the kernel caches. An upper copy whose name goes away while the
// node lives (unlinked while open, or renamed over) keeps its fd instead (keep_upper_fd).
//
// Locking: one mutex (mu) guards the node table, the inode map and every Node's namespace fields
// (parent, name, has_upper, lowers, unlinked). Every metadata operation holds it for its
// duration; copy-up runs under it, so no two copy-ups of the same node race. Data operations
// (read, write, fsync) never take it: they use the fds in their file handles. Lock order: mu, then
// a FileHandle's mu, then the fd cache's.
//
// Lifetime: the node table holds a shared_ptr per node id while the kernel holds a lookup count
// (nlookup > 0); a Node keeps its parent alive through `parent`; open file and dir handles keep
// their Node alive.
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314  // libfuse 3.14 (Debian 12)
#endif
#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "fs/fd_cache.h"
#include "fs/mount.h"
#include "fs/request_counts.h"

namespace imgbuild::fs {

struct FileHandle;  // fs/fuse_ops.h

struct LowerRef {
  int layer = -1;     // index into MountOptions::lowers, 0 = top
  FdSlot fd;          // O_PATH, opened on demand (Filesystem::lower_fd)
  bool made = false;  // a lazy layer's directory whose children exist (lower_fd makes them)
};

struct Node : std::enable_shared_from_this<Node> {
  uint64_t ino = 0;
  mode_t type = 0;  // S_IFMT bits; a node never changes type
  // Guarded by Filesystem::mu.
  std::shared_ptr<Node> parent;  // null only for the root
  std::string name;              // one name of this node in parent (hard links: any one)
  bool has_upper = false;        // the node has an upper copy, at parent's upper copy + name
  dev_t upper_dev = 0;           // the upper copy's identity, checked when it is reopened
  ino_t upper_ino = 0;
  FdSlot upper;  // O_PATH fd of the upper copy, opened on demand (Filesystem::upper_fd)
  // Non-directories: the topmost lower copy (at most one element). Directories: every lower
  // directory merged into this one, top first, stopping at an opaque one.
  std::vector<LowerRef> lowers;
  // Where every lower copy is, relative to its layer's root ("" for the root). Union names
  // change (rename), lower paths never do.
  std::string lower_path;
  bool unlinked = false;  // every name removed: report st_nlink 0
  uint64_t nlookup = 0;
  // Set once the node has an upper copy; read without mu by handles opened on the lower copy.
  std::atomic<bool> in_upper{false};
  // Open handles by kind (fs/fuse_ops_file.cpp): passthrough ones share backing_id, the
  // connection's registration of the upper copy; the kernel never lets both kinds coexist.
  unsigned passthrough_opens = 0;
  unsigned cached_opens = 0;
  int backing_id = 0;

  bool is_dir() const { return S_ISDIR(type); }
};

// What a name resolves to in a directory, before it becomes a Node.
struct Resolved {
  bool exists = false;
  struct stat st {};        // of the topmost copy
  bool upper = false;       // the directory's upper copy has the name
  std::vector<int> lowers;  // layers whose copies are merged in, top first (as Node::lowers)
  // Something in the lowers is visible under this name if the upper entry were removed (so
  // deleting or renaming it needs a whiteout).
  bool lower_visible = false;
  bool upper_whiteout = false;  // the upper already hides the lowers for this name
};

class Filesystem {
 public:
  static Result<std::unique_ptr<Filesystem>> create(const MountOptions& options);
  // Closes everything, file handles the kernel never released included (an aborted connection).
  ~Filesystem();

  const MountOptions& options() const { return options_; }
  bool writable() const { return upper_root_.valid(); }
  WhiteoutStyle style() const { return options_.upper_whiteouts; }
  double timeout_for(const Node& node) const {
    return node.has_upper ? options_.upper_timeout : options_.lower_timeout;
  }

  std::mutex mu;
  // Set at FUSE init when the kernel enabled the writeback cache.
  std::atomic<bool> writeback{false};
  // Set at FUSE init when the connection asked for kernel passthrough of upper files
  // (fs/passthrough.h); fuse_fd is the connection's /dev/fuse fd, for backing-file registration.
  std::atomic<bool> passthrough{false};
  int fuse_fd = -1;
  fuse_session* session = nullptr;  // for notifications to the kernel
  // Set at FUSE init when the connection asked for FUSE_HANDLE_KILLPRIV_V2: writes, truncates
  // and chowns must clear setuid/setgid here (fs/fuse_ops_file.cpp, fuse_ops_entry.cpp).
  std::atomic<bool> killpriv{false};
  // Set at FUSE init when the connection asked for FUSE over io_uring (fs/uring_transport.h);
  // ring_requests counts the requests served through it.
  std::atomic<bool> io_uring{false};
  std::atomic<uint64_t> ring_requests{0};
  // Requests served, by opcode (Mount::stats()).
  RequestCounts requests;
  // Node fds open now (thread-safe).
  size_t cached_fds() const { return fds_.open_count(); }

  // All below: call with mu held.
  std::shared_ptr<Node> node(fuse_ino_t ino);
  // The Node object of a number, also one the kernel has forgotten but something still holds.
  std::shared_ptr<Node> live_node(uint64_t number);

  // Descriptors of a node's copies (see the file comment), O_PATH, or the errno (ESTALE when the
  // copy is gone). Keep the PinnedFd while using the fd.
  PinnedFd upper_fd(Node& node);
  PinnedFd lower_fd(Node& node, size_t i);
  // lower_fd for a lookup of name in the directory node: of a lazy layer's directory whose
  // children are not made yet, only that entry is made (MountOptions::materialize_lazy_entry).
  PinnedFd lower_fd_for_lookup(Node& node, size_t i, const std::string& name);
  PinnedFd open_lower(Node& node, LowerRef& lower);  // lower_fd once the directory is made
  PinnedFd top_fd(Node& node);                       // upper if present, else the top lower
  // Opens the node's top copy with open(2) flags. A lower copy not in the fd cache is opened by
  // its path from the layer root, without an O_PATH fd first. Returns the fd or -errno.
  int open_top(Node& node, int flags);
  // A path naming the node's top copy (a regular file or directory) for path-only calls
  // (getxattr, listxattr): a lower copy through its layer root (no fd opened), else the copy's
  // /proc/self/fd link, whose fd *hold keeps pinned. Empty on error, with the errno in *err.
  std::string top_path(Node& node, std::optional<PinnedFd>* hold, int* err);
  // Opens the upper copy's fd (if not open) and keeps it for the node's lifetime: call before the
  // name the node is known by (parent + name) goes away while the node may still be used.
  void keep_upper_fd(Node& node);
  // Resolves name in the directory node dir (0 or errno; ENOENT is not an error: see exists).
  int resolve(Node& dir, const std::string& name, Resolved* out);
  // Makes (or finds) the Node for a resolved entry and counts one kernel lookup on it.
  std::shared_ptr<Node> instantiate(const std::shared_ptr<Node>& dir, const std::string& name,
                                    Resolved&& r);
  // Like instantiate without counting a lookup (for internal walks).
  std::shared_ptr<Node> peek(const std::shared_ptr<Node>& dir, const std::string& name,
                             Resolved&& r);
  void forget(fuse_ino_t ino, uint64_t n);
  // Drops a node made by peek() from the table when the kernel holds no lookup on it, so internal
  // walks (copy-up of whole trees) do not keep a Node per entry.
  void release_unused(const std::shared_ptr<Node>& node);
  // st for the node, with st_ino and st_nlink adjusted. 0 or errno.
  int stat_node(Node& node, struct stat* st);
  // st of the node's top lower copy (a lazy directory's link count as the image has it,
  // MountOptions::lazy_dir_nlink). 0 or errno.
  int stat_lower(Node& node, struct stat* st);
  int stat_lower_on_disk(Node& node, struct stat* st);  // as it is on disk
  // The inode number for an underlying file (assigning one if new).
  uint64_t ino_for(dev_t dev, ino_t ino);
  // Drops the mapping of an underlying file that no longer exists, so a new file that reuses its
  // (dev, ino) gets a fresh number.
  void forget_ino(dev_t dev, ino_t ino);
  // Binds an upper copy's (dev, ino) to an existing number (after copy-up).
  void bind_ino(dev_t dev, ino_t ino, uint64_t number);
  dev_t upper_dev() const { return upper_dev_; }
  dev_t lower_dev(int layer) const { return lower_devs_[layer]; }

  // Lazily fetched layers (MountOptions::lazy): whether layer is one; whether node is a regular
  // file whose top copy is in one (and which one, in *layer).
  bool lazy_layer(size_t layer) const {
    return options_.fill_lazy && layer < options_.lazy.size() && options_.lazy[layer];
  }
  bool lazy_file(const Node& node, size_t* layer) const;

  // Copy-up (copy_up.cpp). Gives node an upper copy, copying its parents first. 0 or errno.
  int copy_up(Node& node);
  // Copies a directory up as a whole: every visible descendant gets an upper copy and every
  // directory in the subtree becomes opaque, so it no longer depends on the lowers.
  int copy_up_tree(const std::shared_ptr<Node>& dir);
  // After file (a lower file with several links) got its upper copy: links the upper copy at
  // every other name of the lower file that the mount shows (hardlinks.cpp).
  void link_lower_siblings(Node& file, const struct stat& lower_st);

  // Upper-side namespace helpers (upper_ops.cpp).
  // Prepares the upper parent for creating name: copies the parent up, and clears an upper
  // whiteout for name. Sets *opaque_needed if a new directory there must be opaque.
  int prepare_create(Node& parent, const std::string& name, bool* opaque_needed);
  // Removes name from the upper side of parent (if there) and leaves a whiteout when lowers have
  // it. r must be the resolution of name in parent. 0 or errno.
  int remove_entry(Node& parent, const std::string& name, const Resolved& r);
  // Sets owner (caller's uid/gid, setgid-directory rules) on a new upper entry.
  void set_owner(int parent_upper, const std::string& name, const fuse_ctx* ctx);
  // Records that node now has an upper copy at its parent's upper copy + name (stat st).
  void set_upper(Node& node, const struct stat& st);
  // Open file handles (fs/fuse_ops_file.cpp registers them from open to release).
  void add_handle(FileHandle* h) { handles_.insert(h); }
  void remove_handle(FileHandle* h) { handles_.erase(h); }

 private:
  Filesystem(MountOptions options, size_t fd_capacity)
      : options_(std::move(options)), fds_(fd_capacity) {}
  std::shared_ptr<Node> make_node(const std::shared_ptr<Node>& dir, const std::string& name,
                                  Resolved&& r);
  // O_PATH fd of path in a lower layer, or -errno.
  int open_lower_path(int layer, const std::string& path);

  MountOptions options_;
  UniqueFd upper_root_;
  std::vector<UniqueFd> layer_roots_;  // O_PATH, one per lower layer, open for the mount's life
  dev_t upper_dev_ = 0;
  std::vector<dev_t> lower_devs_;
  // Declared before every container of Nodes: slots leave the cache when their Node is destroyed.
  FdCache fds_;
  std::unordered_map<uint64_t, std::shared_ptr<Node>> nodes_;
  // Every Node object alive, by number (expired entries are swept as the map grows).
  std::unordered_map<uint64_t, std::weak_ptr<Node>> live_;
  size_t live_sweep_at_ = 1024;
  std::map<std::pair<dev_t, ino_t>, uint64_t> inos_;
  // Lower files with several hard links that were copied up: their Nodes stay alive, so the
  // other names are linked to the upper copy instead of copied again.
  std::unordered_map<uint64_t, std::shared_ptr<Node>> hardlink_uppers_;
  // Per lower layer: inode -> every path of a regular file with st_nlink > 1, built on first use.
  std::unordered_map<int, std::unordered_map<ino_t, std::vector<std::vector<std::string>>>>
      hardlink_index_;
  std::unordered_set<FileHandle*> handles_;
  friend int link_other_name(Filesystem&, Node&, const std::shared_ptr<Node>&, const std::string&);
  uint64_t next_ino_ = FUSE_ROOT_ID + 1;
};

// Reopens an O_PATH fd with real open flags (through /proc/self/fd). Returns fd or -errno.
int reopen_fd(int opath_fd, int flags);

}  // namespace imgbuild::fs
