#include "fs/fd_cache.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace imgbuild::fs {

FdSlot::FdSlot(FdSlot&& other) noexcept {
  // A slot holding an fd is linked by address: moving it would corrupt the list.
  if (other.prev_) std::abort();
}

FdSlot::~FdSlot() {
  if (cache_) cache_->drop(*this);
}

PinnedFd::PinnedFd(PinnedFd&& other) noexcept
    : cache_(other.cache_), slot_(other.slot_), fd_(other.fd_), err_(other.err_) {
  other.cache_ = nullptr;
  other.slot_ = nullptr;
  other.fd_ = -1;
}

PinnedFd::~PinnedFd() {
  if (slot_) cache_->unpin(*slot_);
}

FdCache::FdCache(size_t capacity) : capacity_(capacity) {
  for (FdSlot* list : {&lru_, &kept_list_}) list->next_ = list->prev_ = list;
}

FdCache::~FdCache() {
  // Slots still holding fds belong to nodes that outlive the mount (handles the kernel never
  // released): close their fds and detach them, so their destructors do not come back here.
  std::lock_guard lock(mu_);
  for (FdSlot* list : {&lru_, &kept_list_}) {
    while (list->next_ != list) {
      FdSlot& slot = *list->next_;
      close_slot(slot);
      slot.cache_ = nullptr;
    }
  }
}

size_t FdCache::capacity_for_limit(unsigned long nofile) {
  return std::clamp<size_t>(nofile / 4, 16, kMaxCachedFds);
}

void FdCache::link_front(FdSlot& list, FdSlot& slot) {
  slot.prev_ = &list;
  slot.next_ = list.next_;
  list.next_->prev_ = &slot;
  list.next_ = &slot;
}

void FdCache::unlink(FdSlot& slot) {
  if (!slot.prev_) return;
  slot.prev_->next_ = slot.next_;
  slot.next_->prev_ = slot.prev_;
  slot.prev_ = slot.next_ = nullptr;
}

PinnedFd FdCache::get(FdSlot& slot) {
  std::lock_guard lock(mu_);
  if (slot.fd_ < 0) return PinnedFd(nullptr, nullptr, -1, 0);
  ++slot.pins_;
  if (!slot.kept_) {
    unlink(slot);
    link_front(lru_, slot);
  }
  return PinnedFd(this, &slot, slot.fd_, 0);
}

PinnedFd FdCache::put(FdSlot& slot, UniqueFd fd) {
  std::lock_guard lock(mu_);
  if (slot.fd_ >= 0) {
    // Filled meanwhile (cannot happen under the filesystem's mutex; harmless if it did).
    ++slot.pins_;
    return PinnedFd(this, &slot, slot.fd_, 0);
  }
  slot.fd_ = fd.release();
  slot.cache_ = this;
  slot.pins_ = 1;
  ++open_;
  link_front(lru_, slot);
  evict();
  return PinnedFd(this, &slot, slot.fd_, 0);
}

void FdCache::keep(FdSlot& slot) {
  std::lock_guard lock(mu_);
  if (slot.fd_ < 0 || slot.kept_) return;
  slot.kept_ = true;
  unlink(slot);
  link_front(kept_list_, slot);
  ++kept_;
}

size_t FdCache::open_count() const {
  std::lock_guard lock(mu_);
  return open_;
}

void FdCache::unpin(FdSlot& slot) {
  std::lock_guard lock(mu_);
  --slot.pins_;
}

void FdCache::drop(FdSlot& slot) {
  std::lock_guard lock(mu_);
  if (slot.fd_ >= 0) close_slot(slot);
}

void FdCache::close_slot(FdSlot& slot) {
  unlink(slot);
  if (slot.kept_) --kept_;
  ::close(slot.fd_);
  slot.fd_ = -1;
  slot.kept_ = false;
  --open_;
}

void FdCache::evict() {
  for (FdSlot* s = lru_.prev_; s != &lru_ && open_ - kept_ > capacity_;) {
    FdSlot* older = s->prev_;
    if (s->pins_ == 0) close_slot(*s);
    s = older;
  }
}

}  // namespace imgbuild::fs
