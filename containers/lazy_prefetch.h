// Prefetch for lazy mounts (issue 15): the files each eStargz layer's TOC lists before its
// .prefetch.landmark entry (stargz-snapshotter's prioritized files, which its writer puts first:
// what a container reads in its first seconds) are fetched in the background once the mount
// serves, as stargz-snapshotter does.
//
// One thread, one file at a time, in TOC order, top layer first. It only calls `fill`, which must
// be safe to run beside the mount's own fills: containers/lazy_mount.cpp's fetches take one lock,
// so a read of a file being prefetched waits for that fetch and then finds the file there, rather
// than fetching it twice. A failed prefetch is left for the read to retry. The destructor stops
// the thread after the file it is on, and joins it.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace imgbuild::containers {

class LazyPrefetcher {
 public:
  using Fill = std::function<void(size_t layer, const std::string& path)>;
  LazyPrefetcher(std::vector<std::pair<size_t, std::string>> files, Fill fill);
  ~LazyPrefetcher();
  LazyPrefetcher(const LazyPrefetcher&) = delete;
  LazyPrefetcher& operator=(const LazyPrefetcher&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace imgbuild::containers
