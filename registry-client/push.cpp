#include "registry-client/push.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "image/distribution.h"
#include "image/estargz_toc.h"
#include "image/media_types.h"
#include "image/remote_blobs.h"
#include "registry-client/blob_sources.h"
#include "registry-client/blob_transfer.h"
#include "registry-client/remote_layers.h"

namespace imgbuild::registry {
namespace {

struct Counts {
  std::atomic<int> uploaded{0}, mounted{0}, existing{0};
};

Status push_one(Session& session, const image::Store& store, const BlobSources& sources,
                const image::Descriptor& blob, const PushOptions& options, Counts& counts,
                const std::atomic<bool>* cancel) {
  PushBlobOptions po;
  po.chunk_size = options.chunk_size;
  if (!store.has_blob(blob.digest)) {
    // A layer left on a registry: mounted from there when it is this registry, else fetched.
    if (auto remote = image::find_remote_blob(store, blob.digest)) {
      for (const auto& s : remote->sources) {
        if (s.registry == session.registry() && s.repository != session.repository()) {
          po.mount_from.push_back(s.repository);
          break;
        }
      }
      po.fetch_missing = [&store, &options, remote]() -> Status {
        TRY(fetch_remote_layers(store, {{remote->blob, remote->diff_id}}, options));
        return {};
      };
    }
  }
  if (po.mount_from.empty()) {
    auto from = sources.repositories_with(blob.digest, session.repository());
    if (!from.empty()) po.mount_from.push_back(from.front());
  }
  auto outcome = TRY(push_blob(session, store, blob, po, options.progress, cancel));
  std::string status;
  switch (outcome) {
    case PushOutcome::kExisted:
      counts.existing.fetch_add(1);
      status = "Layer already exists";
      break;
    case PushOutcome::kMounted:
      counts.mounted.fetch_add(1);
      status = "Mounted from " + po.mount_from.front();
      break;
    case PushOutcome::kUploaded:
      counts.uploaded.fetch_add(1);
      status = "Pushed";
      break;
  }
  if (options.progress != nullptr) options.progress->end(blob.digest, status);
  return {};
}

}  // namespace

Result<BlobPushCounts> push_blobs(Session& session, const image::Store& store,
                                  const std::vector<image::Descriptor>& blobs,
                                  const PushOptions& options) {
  BlobSources sources(store.root(), session.registry());
  Counts counts;
  std::atomic<size_t> next{0};
  std::atomic<bool> cancel{false};
  std::mutex error_mu;
  std::optional<Error> first_error;
  auto worker = [&]() {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= blobs.size() || cancel.load()) return;
      auto st = push_one(session, store, sources, blobs[i], options, counts, &cancel);
      if (!st) {
        std::lock_guard lock(error_mu);
        if (!first_error || first_error->kind() == ErrorKind::kCancelled) first_error = st.error();
        cancel.store(true);
        return;
      }
    }
  };
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(options.parallel, 1)), blobs.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(worker);
  if (n > 0) worker();
  for (auto& t : threads) t.join();
  if (first_error) return fail(*first_error);
  return BlobPushCounts{counts.uploaded.load(), counts.mounted.load(), counts.existing.load()};
}

Status put_manifest(Session& session, const std::string& target, const std::string& media_type,
                    const std::string& bytes, const image::Digest& digest) {
  Request put;
  put.method = "PUT";
  put.target = "/v2/" + session.repository() + "/manifests/" + target;
  put.headers = {{"Content-Type", media_type}};
  put.body = bytes;
  auto r = TRY_CTX(session.send(put), "manifest");
  if (r.status != 201 && r.status != 200) {
    return fail(session.status_error("PUT manifest " + target, r));
  }
  if (auto claimed = r.header("Docker-Content-Digest");
      claimed && !claimed->empty() && *claimed != digest.str()) {
    return fail(ErrorKind::kRegistry, session.registry() + "/" + session.repository() +
                                          " stored the manifest as " + *claimed + ", expected " +
                                          digest.str());
  }
  return {};
}

namespace {

Result<PushResult> push_impl(const image::Store& store, std::string_view name,
                             const image::Reference& dest, const PushOptions& options) {
  auto lease = TRY(store.lease());
  image::Image img = TRY(store.resolve(name));
  if (options.compression != image::Compression::kNone) {
    // An uncompressed layer is compressed from its bytes (and eStargz converts every layer that is
    // not eStargz yet): one left on a registry comes home first.
    bool estargz = options.compression == image::Compression::kEstargz;
    std::vector<LayerJob> uncompressed;
    for (size_t i = 0; i < img.manifest.layers.size() && i < img.config.diff_ids.size(); ++i) {
      const auto& l = img.manifest.layers[i];
      bool converted = image::is_uncompressed_layer(l.media_type) ||
                       (estargz && l.annotation(image::estargz::kTocDigestAnnotation).empty());
      if (converted && !store.has_blob(l.digest)) {
        uncompressed.push_back({l, img.config.diff_ids[i]});
      }
    }
    TRY(fetch_remote_layers(store, uncompressed, options));
  }
  img = TRY(image::prepare_distribution(
      store, img, image::DistributionOptions{options.compression, std::max(options.parallel, 1)}));
  std::string manifest_bytes = TRY(store.read_blob(img.manifest_digest));
  std::string media_type = img.manifest_media_type.empty()
                               ? std::string(image::media_types::kOciManifest)
                               : img.manifest_media_type;
  for (const auto& layer : img.manifest.layers) {
    if (!store.has_blob(layer.digest) && !image::find_remote_blob(store, layer.digest)) {
      return fail(ErrorKind::kNotFound, "layer blob " + layer.digest.str() + " of " +
                                            std::string(name) + " is not in the store");
    }
  }
  auto conn = TRY(Connection::open(dest.registry, dest.repository, Access::kPush, options));
  Session& session = conn->session();
  BlobSources sources(store.root(), dest.registry);
  Progress* progress = options.progress;
  if (progress != nullptr) {
    progress->message("The push refers to repository [" + dest.name() + "]");
  }
  const auto& layers = img.manifest.layers;
  BlobPushCounts counts = TRY(push_blobs(session, store, layers, options));
  BlobPushCounts config_counts = TRY(push_blobs(session, store, {img.manifest.config}, options));

  std::string target = dest.digest ? dest.digest->str() : dest.tag;
  if (dest.digest && *dest.digest != img.manifest_digest) {
    return fail(ErrorKind::kInvalidArgument, "destination digest " + dest.digest->str() +
                                                 " is not the image's manifest " +
                                                 img.manifest_digest.str());
  }
  TRY(put_manifest(session, target, media_type, manifest_bytes, img.manifest_digest));
  std::vector<image::Digest> pushed = {img.manifest.config.digest};
  for (const auto& l : layers) pushed.push_back(l.digest);
  auto recorded = sources.record(dest.repository, pushed);
  (void)recorded;  // only a hint for later mounts

  PushResult result;
  result.manifest_digest = img.manifest_digest;
  result.manifest_size = static_cast<int64_t>(manifest_bytes.size());
  result.blobs_uploaded = counts.uploaded + config_counts.uploaded;
  result.blobs_mounted = counts.mounted + config_counts.mounted;
  result.blobs_existing = counts.existing + config_counts.existing;
  return result;
}

}  // namespace

Result<PushResult> push_image(const image::Store& store, std::string_view image,
                              const image::Reference& dest, const PushOptions& options) {
  return with_context(push_impl(store, image, dest, options), "pushing " + dest.familiar());
}

}  // namespace imgbuild::registry
