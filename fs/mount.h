// imgfs in-process API: mount a union of read-only layer directories plus an optional writable
// upper directory at a mount point, served by FUSE threads inside the calling process.
//
// Layers: every layer (lowers and upper) uses OCI whiteouts: `.wh.NAME` hides NAME in the layers
// below, `.wh..wh..opq` in a directory hides everything below that directory. Lower layers may also
// use the kernel overlayfs style (character device 0/0 for a whiteout, `trusted.overlay.opaque` or
// `user.overlay.opaque` = "y" on an opaque directory). Marker files are never visible through the
// mount, and names starting with ".wh." cannot be created through it (EPERM).
//
// The upper invariant (what the builder relies on): after any sequence of changes through the
// mount, the upper directory read as an OCI layer (upper_whiteouts == kOci) and applied on top of
// the lowers gives exactly the tree the mount showed. So after unmount(), the upper directory IS
// the layer diff: new and changed files, `.wh.NAME` files and `.wh..wh..opq` markers, as plain
// empty files.
//
// Lower layers must not change while mounted (the kernel is told to cache their entries,
// attributes and pages for a long time). The upper directory must not be changed except through
// the mount while mounted.
//
// Ownership and threads: Mount owns the FUSE session and the threads serving it. create() returns
// once the kernel mount exists; requests made after that are served. unmount() unmounts (failing
// with EBUSY-kind errors if the mount is in use) and joins the threads; the destructor unmounts
// lazily (MNT_DETACH), aborts the FUSE connection if still busy, and joins, so it never leaks a
// mount or a thread, also on error paths. A Mount object is not itself thread-safe: call
// unmount() from one thread. Needs root (or CAP_SYS_ADMIN) and /dev/fuse.
//
// Descriptors: the mount raises the process's RLIMIT_NOFILE soft limit to the hard limit (each
// file open through the mount holds one descriptor here) and otherwise holds a bounded number,
// however many inodes the kernel caches (fs/fd_cache.h).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgbuild::fs {

// How deletions and opaque directories are written into the upper directory.
enum class WhiteoutStyle {
  kOci,      // `.wh.NAME` empty files and `.wh..wh..opq` markers (default; what a layer tar holds)
  kOverlay,  // kernel overlayfs: char device 0/0 named NAME, xattr trusted.overlay.opaque = "y"
};

struct MountOptions {
  std::vector<std::string> lowers;  // read-only layer directories, TOP FIRST; may be empty
  std::string upper;                // writable directory (must exist); empty = read-only mount
  WhiteoutStyle upper_whiteouts = WhiteoutStyle::kOci;
  bool allow_other = true;  // let other uids (container processes) use the mount
  // Seconds the kernel may cache entries and attributes of lower-only entries (lowers never
  // change) and of entries in the upper (only this mount changes them).
  double lower_timeout = 86400.0;
  double upper_timeout = 1.0;
  // Lazily fetched layers (issue 15, image/estargz_skeleton.h): lazy[i] says lowers[i] is one.
  // Before a regular file of such a layer is opened, fill_lazy(i, path in the layer) is called,
  // outside imgfs's lock, to make the file's bytes present; it returns 0 or an errno (EIO when a
  // fetch failed) that fails that open only. On a writable mount, a copy-up fills the file first.
  std::vector<bool> lazy;
  std::function<int(size_t layer, const std::string& path)> fill_lazy;
  // Before imgfs first reads a directory of a lazy layer (a lookup in it, a listing, a copy-up),
  // materialize_lazy_dir(i, path of the directory in the layer) is called, under imgfs's lock (it
  // is local work: no fetch), to make the directory's children on disk; 0 or an errno, which
  // fails that operation.
  std::function<int(size_t layer, const std::string& dir)> materialize_lazy_dir;
  // Before imgfs looks a name up in such a directory whose children are not all made, it calls
  // materialize_lazy_entry(i, directory's path, name) instead, to make that entry alone (and its
  // whiteout) if the layer has it; same lock and results. Unset: the whole directory is made.
  std::function<int(size_t layer, const std::string& dir, const std::string& name)>
      materialize_lazy_entry;
  // The link count such a directory will have once its children are made (2 + its
  // subdirectories), reported while they are not: a stat of it then reads as on a full pull.
  // 0, or unset: its link count on disk. Only asked where the layer's filesystem counts
  // subdirectories in a directory's links (not btrfs, say).
  std::function<nlink_t(size_t layer, const std::string& dir)> lazy_dir_nlink;
  // Called once in the serving process when the mount is ready (INIT answered), from the thread
  // that serves it: must return at once. Lazy mounts start their prefetch from here.
  std::function<void()> on_ready;
  std::string fsname = "imgfs";  // shown as the source in /proc/mounts
  unsigned max_threads = 8;      // FUSE worker threads
  // Serve reads and writes of upper files (and on a read-only mount, of every file) in the kernel
  // where it can (FUSE passthrough, Linux 6.9+ with CAP_SYS_ADMIN); otherwise, or when false,
  // through the page cache (writeback cache for the upper).
  bool passthrough = true;
  // Hold the layer directories (and the upper) through private clones of their mounts, as kernel
  // overlayfs does, so this mount never keeps the caller's mounts busy: `umount LOWER` works right
  // after `umount MOUNTPOINT` although the serving process may still be exiting. Needs
  // CAP_SYS_ADMIN (else the directories are held as they are); each clone costs ~0.2 ms (an RCU
  // grace period) when the mount ends. fs/server.h turns it on; an in-process Mount releases
  // everything before unmount() returns and does not need it.
  bool clone_layer_mounts = false;
  // Clear setuid/setgid here on write, truncate and chown (FUSE_HANDLE_KILLPRIV_V2, Linux 5.11+),
  // so the kernel stops asking for security.capability before every write(2); false (mount
  // option nokillpriv) leaves it to the kernel, as libfuse 3.14 alone does.
  bool handle_killpriv = true;
  // Let the kernel cache POSIX ACLs and check permissions with them (FUSE_POSIX_ACL), as kernel
  // overlayfs does; false (mount option noacl) checks the mode bits only and asks this process
  // for every ACL read.
  bool posix_acl = true;
  // Take requests through FUSE over io_uring where the kernel offers it (Linux 6.14+ with
  // /sys/module/fuse/parameters/enable_uring = Y; fs/uring_transport.h), else through /dev/fuse,
  // as always when false (mount option nouring). A kernel that does not offer it sees no
  // difference.
  bool io_uring = true;
};

class Filesystem;  // the union filesystem state (fs/union_fs.h); internal

// What a mount has been doing, for tests and debugging (passthrough and io_uring are known once
// the mount has served its first request).
struct MountStats {
  bool passthrough = false;    // the kernel does I/O on upper files itself (MountOptions)
  bool killpriv = false;       // this process clears setuid/setgid (MountOptions::handle_killpriv)
  bool io_uring = false;       // requests come through FUSE over io_uring (MountOptions::io_uring)
  uint64_t ring_requests = 0;  // requests served through the ring (the rest: /dev/fuse)
  uint64_t reads = 0;          // READ requests this process served
  uint64_t writes = 0;         // WRITE requests this process served
  uint64_t getxattrs = 0;      // GETXATTR requests this process served
  // Every request served, by the kernel's opcode name ("LOOKUP", "CREATE", ...; non-zero only).
  std::map<std::string, uint64_t> requests;
  size_t cached_fds = 0;  // node descriptors open now (at most fs/fd_cache.h's kMaxCachedFds)
};

class Mount {
 public:
  // Validates the options (every lower and the upper must be directories; errors name the path),
  // mounts at mountpoint (an existing directory) and starts serving.
  static Result<std::unique_ptr<Mount>> create(const std::string& mountpoint,
                                               const MountOptions& options);
  // The same without serving yet: the kernel mount exists and holds every request until start().
  // Lets a daemonising server mount before it forks and serve from the child (fs/server.h).
  static Result<std::unique_ptr<Mount>> create_unstarted(const std::string& mountpoint,
                                                         const MountOptions& options);
  // Starts the serving threads of a create_unstarted() mount (once; later calls do nothing).
  void start();
  // For the process that forked a child to serve this unstarted mount: closes this process's
  // copies of the session and layer descriptors and forgets the mount, which stays mounted and
  // served by the child.
  void disown();
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  const std::string& mountpoint() const { return mountpoint_; }
  MountStats stats() const;

  // Unmounts and waits for the serving threads; when it returns, nothing of the mount is open in
  // this process (no layer, upper or /dev/fuse descriptor). Fails (leaving the mount in place)
  // when the mount is busy; the destructor then still detaches it. Calling it twice is harmless.
  Status unmount();

  // Blocks until the session ends (someone ran `umount`/`fusermount3 -u` on the mount point, or
  // unmount() was called from another thread). Used by the standalone server process.
  void wait();

 private:
  struct Impl;
  explicit Mount(std::string mountpoint);
  void end_session();
  std::string mountpoint_;
  std::unique_ptr<Impl> impl_;
};

// Detaches whatever is mounted at mountpoint, also when its server was killed: umount2(), then
// MNT_DETACH, then aborting the FUSE connection through /sys/fs/fuse/connections. Errors name the
// mount point; a mount point with nothing mounted gives kNotFound.
Status force_unmount(const std::string& mountpoint);

}  // namespace imgbuild::fs
