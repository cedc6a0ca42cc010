// The TOCs of a lazy mount's eStargz layers, fetched and indexed in parallel (a connection per
// worker, ClientOptions::parallel workers) while the caller goes on: prepare_lazy_mount starts it
// as soon as the manifest is known, so the TOCs (the biggest cost on the way to the mount) come
// in while the config is fetched and the metadata is written to the store. The bytes fetched
// (footer, TOC) are kept as the start of each layer's partial blob (containers/lazy_blob_bytes.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/estargz_index.h"
#include "image/reference.h"
#include "image/store.h"
#include "registry-client/client.h"

namespace imgbuild::containers {

class TocFetch {
 public:
  // Starts fetching the TOCs of layers[i] for each i in `which`, from ref's repository.
  TocFetch(image::Store store, image::Reference ref, std::vector<image::Descriptor> layers,
           std::vector<size_t> which, registry::ClientOptions options);
  TocFetch(const TocFetch&) = delete;
  TocFetch& operator=(const TocFetch&) = delete;
  ~TocFetch();  // waits for the workers

  const std::vector<image::Descriptor>& layers() const { return layers_; }
  bool started(size_t i) const { return i < asked_.size() && asked_[i]; }

  // Waits for all workers, then gives layer i's index (i must be started). `fetched`, if given,
  // is increased by the bytes this layer's fetch transferred (once).
  Result<std::shared_ptr<image::EstargzIndex>> take(size_t i, int64_t* fetched);

 private:
  void work();
  void join();

  // Neither copied nor moved, so the workers may use the members through `this`.
  const image::Store store_;
  const image::Reference ref_;
  const std::vector<image::Descriptor> layers_;
  const std::vector<size_t> which_;
  registry::ClientOptions options_;
  std::vector<bool> asked_;  // by layer: in which_
  // By layer, each written by the one worker that fetches it, read after join().
  std::vector<std::shared_ptr<image::EstargzIndex>> indexes_;
  std::vector<std::optional<Error>> errors_;
  std::vector<int64_t> bytes_;
  std::atomic<size_t> next_{0};
  std::vector<std::thread> workers_;  // last: started once the rest is ready
};

}  // namespace imgbuild::containers
