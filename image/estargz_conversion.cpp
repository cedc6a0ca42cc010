#include "image/estargz_conversion.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include "base/log.h"
#include "base/parallel.h"
#include "base/sys.h"
#include "image/estargz_writer.h"
#include "image/layer_variants.h"
#include "image/media_types.h"

namespace imgbuild::image {
namespace {

bool is_estargz(const Descriptor& layer) {
  return !layer.annotation(estargz::kTocDigestAnnotation).empty();
}

Result<EstargzVariant> convert_layer(const Store& store, const Descriptor& layer,
                                     const Digest& diff_id, int threads) {
  UniqueFd in = TRY(store.open_blob(layer.digest));
  StagedFile file = TRY(store.make_staging_file("estargz"));
  EstargzBlob blob = TRY(write_estargz(in.get(), file.fd(), {.threads = threads}));
  if (blob.source_diff_id != diff_id) {
    return fail(ErrorKind::kCorrupt, "layer blob " + layer.digest.str() + " unpacks to " +
                                         blob.source_diff_id.str() + ", its image config says " +
                                         diff_id.str());
  }
  TRY(sys::fsync(file.fd(), file.path()));
  std::string path = file.release();
  TRY(store.ingest_blob_file(path, blob.digest, Verify::kTrustCaller));
  EstargzVariant variant{
      .blob = {.media_type = std::string(layer_media_type(Compression::kEstargz)),
               .digest = blob.digest,
               .size = blob.size,
               .annotations = blob.annotations()},
      .diff_id = blob.diff_id};
  TRY(record_estargz_variant(store, diff_id, variant));
  log::debug("converted layer " + diff_id.str() + " to eStargz " + blob.digest.str() + " (" +
             std::to_string(blob.size) + " bytes, TOC " + blob.toc_digest.str() + ")");
  return variant;
}

Result<Image> convert(const Store& store, const Image& image, int parallel) {
  const auto& layers = image.manifest.layers;
  const auto& diff_ids = image.config.diff_ids;
  if (layers.size() != diff_ids.size()) {
    return fail(ErrorKind::kCorrupt, "image has " + std::to_string(layers.size()) +
                                         " layers but its config lists " +
                                         std::to_string(diff_ids.size()) + " diff IDs");
  }
  if (std::all_of(layers.begin(), layers.end(), is_estargz)) return image;

  std::map<Digest, std::optional<EstargzVariant>> variants;  // by diff ID, layers to convert
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!is_estargz(layers[i]))
      variants.try_emplace(diff_ids[i], find_estargz_variant(store, diff_ids[i]));
  }
  std::vector<size_t> jobs;  // first layer index of each diff ID still to convert
  for (size_t i = 0; i < layers.size(); ++i) {
    auto it = variants.find(diff_ids[i]);
    if (it == variants.end() || it->second || is_estargz(layers[i])) continue;
    if (std::none_of(jobs.begin(), jobs.end(),
                     [&](size_t j) { return diff_ids[j] == diff_ids[i]; })) {
      jobs.push_back(i);
    }
  }
  size_t at_once = std::max<size_t>(1, std::min<size_t>(std::max(parallel, 1), jobs.size()));
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  int threads =
      static_cast<int>(std::max<long>(1, (cpus > 0 ? cpus : 1) / static_cast<long>(at_once)));
  std::vector<std::optional<EstargzVariant>> made(jobs.size());
  TRY(for_each_parallel(jobs.size(), at_once, [&](size_t k) -> Status {
    size_t i = jobs[k];
    made[k] = TRY_CTX(convert_layer(store, layers[i], diff_ids[i], threads),
                      "converting layer " + diff_ids[i].str() + " to eStargz");
    return {};
  }));
  for (size_t k = 0; k < jobs.size(); ++k) variants[diff_ids[jobs[k]]] = made[k];

  Image out = image;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (is_estargz(layers[i])) continue;
    const EstargzVariant& v = *variants.at(diff_ids[i]);
    Descriptor d = v.blob;
    for (const auto& [k, value] : layers[i].annotations) d.annotations.try_emplace(k, value);
    out.manifest.layers[i] = std::move(d);
    out.config.diff_ids[i] = v.diff_id;
  }
  std::string config = out.config.serialize();
  out.config_digest = TRY(store.put_blob(config));
  out.manifest.config.digest = out.config_digest;
  out.manifest.config.size = static_cast<int64_t>(config.size());
  out.manifest.config.media_type = std::string(media_types::kOciConfig);
  out.manifest.media_type = std::string(media_types::kOciManifest);
  std::string manifest = out.manifest.serialize();
  out.manifest_digest = TRY(store.put_blob(manifest));
  out.manifest_size = static_cast<int64_t>(manifest.size());
  out.manifest_media_type = std::string(media_types::kOciManifest);
  out.index_digest.reset();
  return out;
}

}  // namespace

Result<Image> convert_to_estargz(const Store& store, const Image& image, int parallel) {
  return with_context(convert(store, image, parallel),
                      "converting " + image.manifest_digest.str() + " to eStargz");
}

}  // namespace imgbuild::image
