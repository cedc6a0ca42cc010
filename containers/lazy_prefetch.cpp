#include "containers/lazy_prefetch.h"

namespace imgbuild::containers {

LazyPrefetcher::LazyPrefetcher(std::vector<std::pair<size_t, std::string>> files, Fill fill) {
  thread_ = std::thread([this, files = std::move(files), fill = std::move(fill)] {
    for (const auto& [layer, path] : files) {
      if (stop_) return;
      fill(layer, path);
    }
  });
}

LazyPrefetcher::~LazyPrefetcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace imgbuild::containers
