#include "registry-client/layer_fetch.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>

#include "base/log.h"
#include "image/partial_blob.h"
#include "image/streaming_unpack.h"
#include "registry-client/blob_transfer.h"

namespace imgbuild::registry {
namespace {

// The blob's partial copy, if a lazy mount left one that can be read (else it is downloaded).
std::optional<image::PartialBlob> find_partial(const image::Store& store,
                                               const image::Descriptor& blob) {
  auto found = image::PartialBlob::open(store, blob);
  if (!found) {
    log::warn("layer " + blob.digest.str() + ": " + found.error().message() +
              "; downloading it whole");
    return std::nullopt;
  }
  return std::move(*found);
}

std::string mb(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

}  // namespace

Result<int> fetch_layers(Session& session, const image::Store& store,
                         const std::vector<LayerJob>& jobs, const ClientOptions& options) {
  std::atomic<size_t> next{0};
  std::atomic<bool> cancel{false};
  std::atomic<int> fetched{0};
  std::mutex error_mu;
  std::optional<Error> first_error;
  // Extraction is CPU-bound (decompression, hashing); two at a time uses both cores while the
  // remaining workers keep the network busy.
  std::counting_semaphore<2> extract_slots(2);
  Progress* progress = options.progress;

  auto worker = [&]() {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= jobs.size() || cancel.load()) return;
      const LayerJob& job = jobs[i];
      auto run = [&]() -> Status {
        bool have_blob = store.has_blob(job.blob.digest);
        bool have_layer = store.has_layer(job.diff_id);
        if (have_blob && have_layer) {
          if (progress != nullptr) progress->end(job.blob.digest, "Already exists");
          return {};
        }
        // What a lazy mount fetched of the blob (image/partial_blob.h) is used, not downloaded
        // again; if the assembled blob fails its check, it is downloaded whole once.
        std::optional<image::PartialBlob> partial;
        if (!have_blob) partial = find_partial(store, job.blob);
        auto download = [&](auto&& attempt) -> Status {
          int64_t reused = 0;
          if (partial) {
            LocalBytes local{*partial};
            auto st = attempt(&local);
            reused = local.reused;
            if (!st && st.error().kind() == ErrorKind::kCorrupt) {
              log::warn("layer " + job.blob.digest.str() + ": " + st.error().message() +
                        "; dropping what a lazy mount fetched of it and downloading it whole");
              TRY(image::PartialBlob::remove(store, job.blob.digest));
              reused = 0;
              st = attempt(nullptr);
            }
            TRY(st);
            if (auto removed = image::PartialBlob::remove(store, job.blob.digest); !removed) {
              log::warn(removed.error().message());
            }
          } else {
            TRY(attempt(nullptr));
          }
          std::string done = "Pull complete";
          if (reused > 0) done += " (" + mb(reused) + " from the lazy cache)";
          if (progress != nullptr) progress->end(job.blob.digest, done);
          return {};
        };
        if (!have_blob && !have_layer) {
          // The usual case: extract while downloading. The layer is adopted only after the
          // blob's digest and the tar's diff ID have both been checked, and before the blob is
          // published: a layer that fails to extract leaves neither behind.
          TRY(download([&](LocalBytes* local) -> Status {
            std::string context = "layer " + job.blob.digest.str();
            auto unpack = TRY(image::StreamingUnpack::start(store, "unpacking " + context));
            BlobTee tee{.feed = [&](std::string_view data) { return unpack->feed(data); },
                        .finish = [&]() -> Status {
                          if (progress != nullptr) {
                            progress->begin(job.blob.digest, job.blob.size, "Extracting");
                          }
                          TRY(unpack->finish(job.diff_id));
                          return {};
                        }};
            return fetch_blob(session, store, job.blob, progress, &cancel, tee, local);
          }));
          fetched.fetch_add(1);
          return {};
        }
        if (!have_blob) {
          TRY(download([&](LocalBytes* local) {
            return fetch_blob(session, store, job.blob, progress, &cancel, {}, local);
          }));
          fetched.fetch_add(1);
          return {};
        }
        if (!have_layer) {
          if (progress != nullptr) progress->begin(job.blob.digest, job.blob.size, "Extracting");
          extract_slots.acquire();
          auto unpacked = store.unpack_layer(job.blob, job.diff_id);
          extract_slots.release();
          if (!unpacked)
            return fail(unpacked.error().with_context("layer " + job.blob.digest.str()));
        }
        if (progress != nullptr) progress->end(job.blob.digest, "Pull complete");
        return {};
      };
      auto st = run();
      if (!st) {
        std::lock_guard lock(error_mu);
        if (!first_error || first_error->kind() == ErrorKind::kCancelled) first_error = st.error();
        cancel.store(true);
        return;
      }
    }
  };
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(options.parallel, 1)), jobs.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(worker);
  if (n > 0) worker();
  for (auto& t : threads) t.join();
  if (first_error) return fail(*first_error);
  return fetched.load();
}

}  // namespace imgbuild::registry
