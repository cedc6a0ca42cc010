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

  const std::vector<image::Descriptor>& layers() const { return state_->layers; }
  bool started(size_t i) const { return i < state_->asked.size() && state_->asked[i]; }

  // Waits for all workers, then gives layer i's index (i must be started). `fetched`, if given,
  // is increased by the bytes this layer's fetch transferred (once).
  Result<std::shared_ptr<image::EstargzIndex>> take(size_t i, int64_t* fetched);

 private:
  struct State {
    State(image::Store s, image::Reference r, std::vector<image::Descriptor> l,
          std::vector<size_t> w, registry::ClientOptions o)
        : store(std::move(s)),
          ref(std::move(r)),
          layers(std::move(l)),
          which(std::move(w)),
          options(std::move(o)) {}
    image::Store store;
    image::Reference ref;
    std::vector<image::Descriptor> layers;
    std::vector<size_t> which;
    registry::ClientOptions options;
    std::vector<bool> asked;
    std::vector<std::shared_ptr<image::EstargzIndex>> indexes;
    std::vector<std::optional<Error>> errors;
    std::vector<int64_t> bytes;
    std::atomic<size_t> next{0};
  };
  void work();
  void join();

  std::unique_ptr<State> state_;
  std::vector<std::thread> workers_;
};

}  // namespace imgbuild::containers
