#include "fs/fd_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using imgbuild::UniqueFd;
using imgbuild::fs::FdCache;
using imgbuild::fs::FdSlot;
using imgbuild::fs::kMaxCachedFds;
using imgbuild::fs::PinnedFd;

namespace {

UniqueFd devnull() {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(fd);
  return fd;
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

// Fills slot and returns the fd number (unpinned again).
int fill(FdCache& cache, FdSlot& slot) {
  PinnedFd fd = cache.put(slot, devnull());
  REQUIRE(fd);
  return fd.get();
}

}  // namespace

TEST_CASE("fd cache closes the least recently used fds beyond its capacity", "[fs][unit]") {
  FdCache cache(2);
  FdSlot a, b, c;
  int fa = fill(cache, a);
  int fb = fill(cache, b);
  CHECK(cache.open_count() == 2);
  {
    PinnedFd again = cache.get(a);  // a is now more recent than b
    CHECK(again.get() == fa);
  }
  fill(cache, c);
  CHECK(cache.open_count() == 2);
  CHECK_FALSE(is_open(fb));
  CHECK_FALSE(cache.get(b));
  CHECK(cache.get(b).error() == 0);  // empty, not an error: the caller reopens
  CHECK(cache.get(a));
  CHECK(cache.get(c));
}

TEST_CASE("fd cache never closes a pinned fd", "[fs][unit]") {
  FdCache cache(1);
  FdSlot a, b, c;
  PinnedFd held = cache.put(a, devnull());
  PinnedFd held_too = cache.put(b, devnull());
  CHECK(cache.open_count() == 2);  // over capacity while both are in use
  CHECK(is_open(held.get()));
  CHECK(is_open(held_too.get()));
  int fb = held_too.get();
  { PinnedFd moved = std::move(held_too); }  // b unpinned
  fill(cache, c);
  CHECK(is_open(held.get()));
  CHECK_FALSE(is_open(fb));
  CHECK(cache.open_count() == 2);  // a (pinned) and c (just used)
}

TEST_CASE("fd cache keeps kept fds open beyond its capacity", "[fs][unit]") {
  FdCache cache(1);
  FdSlot kept, a, b;
  int fk = fill(cache, kept);
  cache.keep(kept);
  int fa = fill(cache, a);
  CHECK(is_open(fk));
  CHECK(is_open(fa));  // kept fds do not count against the capacity
  fill(cache, b);
  CHECK(is_open(fk));
  CHECK_FALSE(is_open(fa));
  CHECK(cache.open_count() == 2);
}

TEST_CASE("fd cache: a destroyed slot closes its fd and leaves the cache", "[fs][unit]") {
  FdCache cache(4);
  int fd = -1;
  {
    FdSlot slot;
    fd = fill(cache, slot);
    CHECK(cache.open_count() == 1);
  }
  CHECK(cache.open_count() == 0);
  CHECK_FALSE(is_open(fd));
}

TEST_CASE("fd cache capacity follows a low fd limit", "[fs][unit]") {
  CHECK(FdCache::capacity_for_limit(1024) == kMaxCachedFds);
  CHECK(FdCache::capacity_for_limit(1048576) == kMaxCachedFds);
  CHECK(FdCache::capacity_for_limit(256) == 64);
  CHECK(FdCache::capacity_for_limit(20) == 16);
}
