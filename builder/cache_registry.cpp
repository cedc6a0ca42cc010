#include "builder/cache_registry.h"

#include <algorithm>

#include "builder/build_cache.h"
#include "builder/cache_document.h"
#include "builder/cache_inline.h"
#include "image/distribution.h"
#include "image/index.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/platform.h"
#include "image/remote_blobs.h"
#include "registry-client/blob_sources.h"
#include "registry-client/blob_transfer.h"
#include "registry-client/limits.h"
#include "registry-client/manifest_fetch.h"
#include "registry-client/push.h"

namespace imgbuild::builder {
namespace {

constexpr size_t kMaxCacheConfig = 64u << 20;

std::string tag_or_digest(const image::Reference& ref) {
  if (ref.digest) return ref.digest->str();
  return ref.tag.empty() ? std::string("latest") : ref.tag;
}

}  // namespace

Result<CacheExportReport> export_cache_registry(const image::Store& store,
                                                const std::vector<std::string>& keys,
                                                const image::Reference& ref,
                                                const RegistryCacheOptions& options) {
  auto lease = TRY(store.lease());
  BuildCache cache(store);
  std::vector<CacheRecord> records;
  std::vector<image::Descriptor> blobs;
  std::vector<image::Digest> diff_ids;
  for (const auto& key : keys) {
    auto record = cache.lookup(key);
    if (!record) continue;  // pruned meanwhile: the next build makes it again
    if (!record->empty_layer) {
      blobs.push_back(record->blob);
      diff_ids.push_back(record->diff_id);
    }
    records.push_back(std::move(*record));
  }
  // Records name layers by their tar's diff ID, which an eStargz blob does not keep (its TOC is
  // part of what it unpacks to): the cache stores gzip where the image goes out as eStargz.
  image::Compression compression = options.compression == image::Compression::kEstargz
                                       ? image::Compression::kGzip
                                       : options.compression;
  auto compressed = TRY(image::distribution_layers(
      store, blobs, diff_ids,
      image::DistributionOptions{compression, std::max(options.client.parallel, 1)}));
  size_t next = 0;
  for (auto& r : records) {
    if (!r.empty_layer) r.blob = compressed[next++];
  }
  CacheArtifact artifact = make_cache_artifact(records);
  TRY(store.put_blob(artifact.config));  // pushed from the store like any blob

  auto conn = TRY(registry::Connection::open(ref.registry, ref.repository, registry::Access::kPush,
                                             options.client));
  registry::Session& session = conn->session();
  registry::PushOptions push_options;
  static_cast<registry::ClientOptions&>(push_options) = options.client;
  push_options.compression = compression;
  auto counts = TRY(registry::push_blobs(session, store, artifact.layers, push_options));
  TRY(registry::push_blobs(session, store, {artifact.config_descriptor}, push_options));
  TRY(registry::put_manifest(session, tag_or_digest(ref),
                             std::string(image::media_types::kOciManifest), artifact.manifest,
                             artifact.manifest_descriptor.digest));
  std::vector<image::Digest> pushed;
  for (const auto& l : artifact.layers) pushed.push_back(l.digest);
  (void)registry::BlobSources(store.root(), ref.registry).record(ref.repository, pushed);

  CacheExportReport report;
  report.records = artifact.records;
  report.blobs_written = counts.uploaded;
  return report;
}

Result<CacheImportReport> import_cache_registry(const image::Store& store,
                                                const image::Reference& ref,
                                                const RegistryCacheOptions& options) {
  auto conn = TRY(registry::Connection::open(ref.registry, ref.repository, registry::Access::kPull,
                                             options.client));
  registry::Session& session = conn->session();
  std::string where = ref.familiar();
  auto manifest = TRY(registry::fetch_manifest(session, tag_or_digest(ref), ref.digest));
  if (registry::is_index_document(manifest)) {
    // An image index: the host platform's image, which may carry inline records.
    auto index = TRY_CTX(image::Index::parse(manifest.bytes, manifest.content_type), where);
    auto entry = TRY_CTX(index.select(image::Platform::host()), where);
    manifest = TRY(registry::fetch_manifest(session, entry.digest.str(), entry.digest));
  }
  CacheRecords parsed;
  if (auto config_desc = cache_config_descriptor(manifest.bytes, where)) {
    std::string config =
        TRY(registry::fetch_small_blob(session, *config_desc, "cache config", kMaxCacheConfig));
    parsed = TRY(parse_cache_config(config, where));
  } else {
    // Not a cache artifact: an image whose config may hold inline records (cache_inline.h).
    auto image_manifest = image::Manifest::parse(manifest.bytes, manifest.content_type);
    if (!image_manifest ||
        (image_manifest->config.media_type != image::media_types::kOciConfig &&
         image_manifest->config.media_type != image::media_types::kDockerConfig)) {
      return fail(config_desc.error());
    }
    std::string config = TRY(registry::fetch_small_blob(session, image_manifest->config, "config",
                                                        registry::kMaxConfigBytes));
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(config);
    } catch (const nlohmann::json::exception& e) {
      return fail(ErrorKind::kCorrupt, where + ": config: " + e.what());
    }
    parsed = TRY(parse_inline_cache(j, image_manifest->layers, where));
  }

  CacheImportReport report;
  report.problems = parsed.problems;
  report.skipped = static_cast<int>(parsed.problems.size());
  BuildCache cache(store);
  std::vector<image::Digest> layers;
  for (auto& record : parsed.records) {
    if (auto have = cache.lookup(record.key);
        have && (have->empty_layer || store.has_layer(have->diff_id))) {
      ++report.records;  // the store's own record, with its layer, stays
      continue;
    }
    if (!record.empty_layer) {
      layers.push_back(record.blob.digest);
      if (!store.has_blob(record.blob.digest)) {
        TRY(image::record_remote_blob(store, record.blob, record.diff_id,
                                      {ref.registry, ref.repository}));
      }
    }
    record.source = where;
    TRY(cache.save(record));
    ++report.records;
  }
  (void)registry::BlobSources(store.root(), ref.registry).record(ref.repository, layers);
  return report;
}

}  // namespace imgbuild::builder
