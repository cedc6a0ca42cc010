#include "registry-client/pull.h"

#include "image/image_config.h"
#include "image/index.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/remote_blobs.h"
#include "registry-client/blob_sources.h"
#include "registry-client/blob_transfer.h"
#include "registry-client/layer_fetch.h"
#include "registry-client/limits.h"
#include "registry-client/manifest_fetch.h"

namespace imgbuild::registry {
namespace mt = image::media_types;
namespace {

Result<PullResult> pull_impl(const image::Store& store, const image::Reference& ref,
                             const PullOptions& options) {
  auto lease = TRY(store.lease());
  auto conn = TRY(Connection::open(ref.registry, ref.repository, Access::kPull, options));
  Session& session = conn->session();
  Progress* progress = options.progress;
  image::Platform platform = options.platform.value_or(image::Platform::host());

  std::string wanted = ref.digest ? ref.digest->str() : ref.tag;
  if (progress != nullptr) {
    progress->message((ref.tag.empty() ? ref.digest->short_hex() : ref.tag) + ": Pulling from " +
                      ref.repository);
  }
  FetchedManifest top = TRY(fetch_manifest(session, wanted, ref.digest));
  PullResult result;
  FetchedManifest manifest_doc;
  std::string index_bytes;
  if (is_index_document(top)) {
    auto index = TRY_CTX(image::Index::parse(top.bytes, top.content_type), "manifest " + wanted);
    auto entry = TRY(index.select(platform));
    result.index_digest = top.digest;
    index_bytes = std::move(top.bytes);
    manifest_doc = TRY(fetch_manifest(session, entry.digest.str(), entry.digest));
    if (manifest_doc.content_type.empty()) manifest_doc.content_type = entry.media_type;
  } else {
    manifest_doc = std::move(top);
  }
  auto manifest = TRY_CTX(image::Manifest::parse(manifest_doc.bytes, manifest_doc.content_type),
                          "manifest " + manifest_doc.digest.str());
  if (options.on_manifest) options.on_manifest(manifest);

  // Config first: its diff IDs name the unpacked layers.
  std::string config_bytes;
  if (store.has_blob(manifest.config.digest)) {
    config_bytes = TRY(store.read_blob(manifest.config.digest));
  } else {
    config_bytes = TRY(fetch_small_blob(session, manifest.config, "config", kMaxConfigBytes));
  }
  auto config =
      TRY_CTX(image::ImageConfig::parse(config_bytes), "config " + manifest.config.digest.str());
  if (config.diff_ids.size() != manifest.layers.size()) {
    return fail(ErrorKind::kCorrupt, "manifest " + manifest_doc.digest.str() + " lists " +
                                         std::to_string(manifest.layers.size()) +
                                         " layers but its config has " +
                                         std::to_string(config.diff_ids.size()) + " diff IDs");
  }
  if (!config.os.empty() && !config.architecture.empty() && !result.index_digest) {
    // A single-platform image for another platform is still pulled (docker warns likewise).
    image::Platform have{.os = config.os, .architecture = config.architecture};
    if (!have.matches(platform) && progress != nullptr) {
      progress->message("WARNING: image platform " + have.str() + " does not match the requested " +
                        platform.str());
    }
  }
  std::vector<LayerJob> jobs;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    jobs.push_back({manifest.layers[i], config.diff_ids[i]});
  }
  if (options.layers == LayerPolicy::kFetch) {
    result.layers_fetched = TRY(fetch_layers(session, store, jobs, options));
  } else {
    for (const auto& job : jobs) {
      if (store.has_blob(job.blob.digest)) continue;
      TRY(image::record_remote_blob(store, job.blob, job.diff_id, {ref.registry, ref.repository}));
    }
  }

  auto config_digest = TRY(store.put_blob(config_bytes));
  auto manifest_digest = TRY(store.put_blob(manifest_doc.bytes));
  if (manifest_digest != manifest_doc.digest || config_digest != manifest.config.digest) {
    return fail(ErrorKind::kInternal, "store computed different digests for manifest or config");
  }
  if (!index_bytes.empty()) TRY(store.put_blob(index_bytes));
  std::string media_type =
      manifest.media_type.empty() ? std::string(mt::kOciManifest) : manifest.media_type;
  if (!ref.tag.empty()) {
    TRY(store.tag(ref, manifest_digest, static_cast<int64_t>(manifest_doc.bytes.size()),
                  media_type));
  }
  result.manifest_digest = manifest_digest;
  result.config_digest = config_digest;

  std::vector<image::Digest> pulled;
  pulled.push_back(config_digest);
  for (const auto& l : manifest.layers) pulled.push_back(l.digest);
  auto recorded = BlobSources(store.root(), ref.registry).record(ref.repository, pulled);
  (void)recorded;  // only a hint for later mounts
  return result;
}

}  // namespace

std::string manifest_accept_header() {
  return std::string(mt::kOciIndex) + ", " + std::string(mt::kDockerManifestList) + ", " +
         std::string(mt::kOciManifest) + ", " + std::string(mt::kDockerManifest);
}

Result<PullResult> pull_image(const image::Store& store, const image::Reference& ref,
                              const PullOptions& options) {
  return with_context(pull_impl(store, ref, options), "pulling " + ref.familiar());
}

}  // namespace imgbuild::registry
