#include "containers/lazy_toc_fetch.h"

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "containers/lazy_blob_bytes.h"
#include "registry-client/estargz_remote.h"

namespace imgbuild::containers {

TocFetch::TocFetch(image::Store store, image::Reference ref, std::vector<image::Descriptor> layers,
                   std::vector<size_t> which, registry::ClientOptions options)
    : state_(std::make_unique<State>(std::move(store), std::move(ref), std::move(layers),
                                     std::move(which), std::move(options))) {
  State& s = *state_;
  s.options.progress = nullptr;
  size_t n = s.layers.size();
  s.asked.assign(n, false);
  s.indexes.resize(n);
  s.errors.resize(n);
  s.bytes.assign(n, 0);
  for (size_t i : s.which) {
    if (i < n) s.asked[i] = true;
  }
  size_t count =
      std::min<size_t>(s.which.size(), static_cast<size_t>(std::max(1, s.options.parallel)));
  for (size_t w = 0; w < count; ++w) workers_.emplace_back([this] { work(); });
}

TocFetch::~TocFetch() { join(); }

void TocFetch::join() {
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

void TocFetch::work() {
  State& s = *state_;
  std::unique_ptr<registry::Connection> connection;
  for (size_t k = s.next++; k < s.which.size(); k = s.next++) {
    size_t i = s.which[k];
    if (i >= s.layers.size()) continue;
    if (!connection) {
      auto opened = registry::Connection::open(s.ref.registry, s.ref.repository,
                                               registry::Access::kPull, s.options);
      if (!opened) {
        s.errors[i] = opened.error();
        continue;
      }
      connection = std::move(*opened);
    }
    // The footer and TOC are the start of what a later pull finds here.
    BlobBytesKeeper keeper(s.store, s.layers[i]);
    auto index = registry::fetch_estargz_index(connection->session(), s.layers[i], &s.bytes[i],
                                               keeper.sink());
    if (!index) {
      s.errors[i] = index.error();
      continue;
    }
    s.indexes[i] = std::make_shared<image::EstargzIndex>(std::move(*index));
    log::debug("lazy: TOC of " + s.layers[i].digest.short_hex() + " indexed, " +
               std::to_string(s.indexes[i]->entries().size()) + " entries");
  }
}

Result<std::shared_ptr<image::EstargzIndex>> TocFetch::take(size_t i, int64_t* fetched) {
  join();
  State& s = *state_;
  if (!started(i)) return fail(ErrorKind::kInternal, "no TOC fetch for layer " + std::to_string(i));
  if (fetched != nullptr) *fetched += std::exchange(s.bytes[i], 0);
  if (s.errors[i]) return fail(*s.errors[i]);
  return s.indexes[i];
}

}  // namespace imgbuild::containers
