// The O_PATH descriptors of an imgfs mount's nodes, bounded. Internal to fs/.
//
// The kernel keeps as many inodes looked up as it likes (lower entries are cached for a day), far
// more than a process may hold fds (Debian's soft limit is 1024). So a Node does not own fds: each
// of its copies (the upper one, one per lower layer) has an FdSlot that the filesystem fills on
// demand by reopening the copy (fs/union_fs.cpp) and that this cache closes again, least recently
// used first, once more than its capacity are open. However many inodes the kernel caches, the
// mount holds at most capacity() of these fds, plus those pinned by the requests being served and
// those kept for copies that cannot be found again by name (an upper file unlinked while in use).
//
// Pinning: get() and put() return a PinnedFd, and the slot's fd is not closed while it lives. Code
// must keep the PinnedFd (not just its int) for as long as it uses the fd.
//
// Threads: the filesystem calls get/put/keep with its own mutex held; a slot may be destroyed (with
// its Node) on any thread. The cache's mutex, taken last, makes both safe.
#pragma once

#include <cstddef>
#include <mutex>

#include "base/unique_fd.h"

namespace imgbuild::fs {

// At most this many node fds stay open in one mount (fewer when the fd limit is low: see
// FdCache::capacity_for_limit).
inline constexpr size_t kMaxCachedFds = 128;

class FdCache;

// One reopenable descriptor, owned by a Node. Empty until filled; closed when evicted or
// destroyed. Only an empty slot may be moved (while a Node's lowers are being built).
class FdSlot {
 public:
  FdSlot() = default;
  FdSlot(FdSlot&& other) noexcept;
  FdSlot& operator=(FdSlot&&) = delete;
  ~FdSlot();

 private:
  friend class FdCache;
  // Set when first filled, never cleared while the cache lives: the destructor may run on another
  // thread than the one that filled it (after the last shared_ptr to its Node goes).
  FdCache* cache_ = nullptr;
  int fd_ = -1;
  unsigned pins_ = 0;
  bool kept_ = false;       // never evicted
  FdSlot* prev_ = nullptr;  // LRU list links (most recent at the front)
  FdSlot* next_ = nullptr;
};

// An fd borrowed from a slot (unpinned on destruction), a descriptor that outlives every request
// (layer roots), or an errno.
class PinnedFd {
 public:
  static PinnedFd error(int err) { return PinnedFd(nullptr, nullptr, -1, err); }
  static PinnedFd borrowed(int fd) { return PinnedFd(nullptr, nullptr, fd, 0); }
  PinnedFd(PinnedFd&& other) noexcept;
  PinnedFd& operator=(PinnedFd&&) = delete;
  ~PinnedFd();

  // The fd; only on a named PinnedFd, so that it cannot outlive its pin.
  int get() const& { return fd_; }
  int get() const&& = delete;
  explicit operator bool() const { return fd_ >= 0; }
  // The errno when there is no fd.
  int error() const { return err_; }

 private:
  friend class FdCache;
  PinnedFd(FdCache* cache, FdSlot* slot, int fd, int err)
      : cache_(cache), slot_(slot), fd_(fd), err_(err) {}
  FdCache* cache_;
  FdSlot* slot_;
  int fd_;
  int err_;
};

class FdCache {
 public:
  explicit FdCache(size_t capacity);
  ~FdCache();
  FdCache(const FdCache&) = delete;
  FdCache& operator=(const FdCache&) = delete;

  // The capacity for a process whose RLIMIT_NOFILE soft limit is nofile: kMaxCachedFds, or a
  // quarter of the limit when that is lower (never below 16).
  static size_t capacity_for_limit(unsigned long nofile);

  // The slot's fd, pinned, or an empty PinnedFd (error 0) when the slot holds none.
  PinnedFd get(FdSlot& slot);
  // Stores fd in the empty slot and returns it pinned; then closes the least recently used
  // unpinned fds while more than capacity() are open.
  PinnedFd put(FdSlot& slot, UniqueFd fd);
  // The slot's fd (it must hold one) is never evicted from now on.
  void keep(FdSlot& slot);

  size_t capacity() const { return capacity_; }
  // Fds open in slots now.
  size_t open_count() const;

 private:
  friend class FdSlot;
  friend class PinnedFd;
  void unpin(FdSlot& slot);
  void drop(FdSlot& slot);  // closes and unlinks; the slot is being destroyed
  void link_front(FdSlot& list, FdSlot& slot);
  void unlink(FdSlot& slot);
  void close_slot(FdSlot& slot);
  void evict();

  const size_t capacity_;
  mutable std::mutex mu_;
  size_t open_ = 0;  // slots holding an fd, kept ones included
  size_t kept_ = 0;
  // List sentinels. lru_.next_ is the most recently used slot, lru_.prev_ the least; kept slots
  // are on their own list (so the destructor finds every slot still open).
  FdSlot lru_;
  FdSlot kept_list_;
};

}  // namespace imgbuild::fs
