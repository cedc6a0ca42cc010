#include "containers/lazy_toc_fetch.h"

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "containers/lazy_blob_bytes.h"
#include "registry-client/estargz_remote.h"

namespace imgbuild::containers {

TocFetch::TocFetch(image::Store store, image::Reference ref, std::vector<image::Descriptor> layers,
                   std::vector<size_t> which, registry::ClientOptions options)
    : store_(std::move(store)),
      ref_(std::move(ref)),
      layers_(std::move(layers)),
      which_(std::move(which)),
      options_(std::move(options)),
      asked_(layers_.size(), false),
      indexes_(layers_.size()),
      errors_(layers_.size()),
      bytes_(layers_.size(), 0) {
  options_.progress = nullptr;
  for (size_t i : which_) {
    if (i < asked_.size()) asked_[i] = true;
  }
  size_t count =
      std::min<size_t>(which_.size(), static_cast<size_t>(std::max(1, options_.parallel)));
  for (size_t w = 0; w < count; ++w) workers_.emplace_back([this] { work(); });
}

TocFetch::~TocFetch() { join(); }

void TocFetch::join() {
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

void TocFetch::work() {
  std::unique_ptr<registry::Connection> connection;
  for (size_t k = next_++; k < which_.size(); k = next_++) {
    size_t i = which_[k];
    if (i >= layers_.size()) continue;
    if (!connection) {
      auto opened = registry::Connection::open(ref_.registry, ref_.repository,
                                               registry::Access::kPull, options_);
      if (!opened) {
        errors_[i] = opened.error();
        continue;
      }
      connection = std::move(*opened);
    }
    // The footer and TOC are the start of what a later pull finds here.
    BlobBytesKeeper keeper(store_, layers_[i]);
    auto index =
        registry::fetch_estargz_index(connection->session(), layers_[i], &bytes_[i], keeper.sink());
    if (!index) {
      errors_[i] = index.error();
      continue;
    }
    indexes_[i] = std::make_shared<image::EstargzIndex>(std::move(*index));
    log::debug("lazy: TOC of " + layers_[i].digest.short_hex() + " indexed, " +
               std::to_string(indexes_[i]->entries().size()) + " entries");
  }
}

Result<std::shared_ptr<image::EstargzIndex>> TocFetch::take(size_t i, int64_t* fetched) {
  join();
  if (!started(i)) return fail(ErrorKind::kInternal, "no TOC fetch for layer " + std::to_string(i));
  if (fetched != nullptr) *fetched += std::exchange(bytes_[i], 0);
  if (errors_[i]) return fail(*errors_[i]);
  return indexes_[i];
}

}  // namespace imgbuild::containers
