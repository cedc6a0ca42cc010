#include "image/distribution.h"

#include <unistd.h>

#include <algorithm>
#include <map>

#include "base/log.h"
#include "base/parallel.h"
#include "base/sys.h"
#include "image/estargz_conversion.h"
#include "image/layer_variants.h"
#include "image/layer_writer.h"
#include "image/media_types.h"

namespace imgbuild::image {
bool is_uncompressed_layer(std::string_view media_type) {
  return media_type == media_types::kOciLayer || media_type == media_types::kDockerLayerTar;
}

namespace {

// Compresses the tar blob of one layer into the store and records it as diff_id's variant.
Result<Descriptor> compress_layer(const Store& store, const Descriptor& tar_blob,
                                  const Digest& diff_id, Compression compression, int threads) {
  UniqueFd in = TRY(store.open_blob(tar_blob.digest));
  StagedFile file = TRY(store.make_staging_file("compress"));
  LayerWriteOptions options;
  options.compression = compression;
  options.threads = threads;
  LayerBlob blob = TRY(write_layer_from_tar(in.get(), file.fd(), options));
  if (blob.diff_id != diff_id) {
    return fail(ErrorKind::kCorrupt, "layer blob " + tar_blob.digest.str() + " hashes to " +
                                         blob.diff_id.str() + ", its image config says " +
                                         diff_id.str());
  }
  TRY(sys::fsync(file.fd(), file.path()));
  std::string path = file.release();
  TRY(store.ingest_blob_file(path, blob.digest, Verify::kTrustCaller));
  Descriptor out{.media_type = blob.media_type, .digest = blob.digest, .size = blob.size};
  TRY(record_layer_variant(store, diff_id, compression, out));
  log::debug("compressed layer " + diff_id.str() + " (" + std::to_string(tar_blob.size) +
             " bytes) to " + std::string(compression_name(compression)) + " " + blob.digest.str() +
             " (" + std::to_string(blob.size) + " bytes)");
  return out;
}

Result<Image> prepare(const Store& store, const Image& image, const DistributionOptions& options) {
  if (options.compression == Compression::kNone) return image;
  if (options.compression == Compression::kEstargz) {
    return convert_to_estargz(store, image, options.parallel);
  }
  const auto& layers = image.manifest.layers;
  if (std::none_of(layers.begin(), layers.end(),
                   [](const Descriptor& d) { return is_uncompressed_layer(d.media_type); })) {
    return image;
  }
  std::vector<Descriptor> compressed =
      TRY(distribution_layers(store, layers, image.config.diff_ids, options));
  Image out = image;
  out.manifest.media_type = std::string(media_types::kOciManifest);
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!is_uncompressed_layer(layers[i].media_type)) continue;
    Descriptor d = compressed[i];
    d.annotations = layers[i].annotations;
    out.manifest.layers[i] = std::move(d);
  }
  std::string bytes = out.manifest.serialize();
  out.manifest_digest = TRY(store.put_blob(bytes));
  out.manifest_size = static_cast<int64_t>(bytes.size());
  out.manifest_media_type = std::string(media_types::kOciManifest);
  out.index_digest.reset();
  return out;
}

}  // namespace

Result<std::vector<Descriptor>> distribution_layers(const Store& store,
                                                    const std::vector<Descriptor>& layers,
                                                    const std::vector<Digest>& diff_ids,
                                                    const DistributionOptions& options) {
  if (layers.size() != diff_ids.size()) {
    return fail(ErrorKind::kCorrupt, "image has " + std::to_string(layers.size()) +
                                         " layers but its config lists " +
                                         std::to_string(diff_ids.size()) + " diff IDs");
  }
  if (options.compression == Compression::kNone) return layers;
  if (options.compression == Compression::kEstargz) {
    return fail(ErrorKind::kInvalidArgument,
                "eStargz layers have diff IDs of their own: use prepare_distribution");
  }
  std::vector<std::optional<Descriptor>> replaced(layers.size());
  std::map<Digest, size_t> todo;  // diff ID -> first layer index needing compression
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!is_uncompressed_layer(layers[i].media_type)) continue;
    replaced[i] = find_layer_variant(store, diff_ids[i], options.compression);
    if (!replaced[i]) todo.try_emplace(diff_ids[i], i);
  }
  std::vector<size_t> jobs;
  for (const auto& [diff_id, i] : todo) jobs.push_back(i);
  std::vector<std::optional<Descriptor>> made(jobs.size());
  size_t parallel = static_cast<size_t>(std::max(options.parallel, 1));
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  // Layers at once times threads per layer: about one thread per CPU.
  long at_once = static_cast<long>(std::max<size_t>(1, std::min(parallel, jobs.size())));
  int threads = static_cast<int>(std::max<long>(1, (cpus > 0 ? cpus : 1) / at_once));
  TRY(for_each_parallel(jobs.size(), parallel, [&](size_t k) -> Status {
    size_t i = jobs[k];
    made[k] = TRY_CTX(compress_layer(store, layers[i], diff_ids[i], options.compression, threads),
                      "compressing layer " + diff_ids[i].str());
    return {};
  }));
  for (size_t k = 0; k < jobs.size(); ++k) {
    for (size_t i = 0; i < layers.size(); ++i) {
      if (diff_ids[i] == diff_ids[jobs[k]] && is_uncompressed_layer(layers[i].media_type)) {
        replaced[i] = made[k];
      }
    }
  }

  std::vector<Descriptor> out = layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (replaced[i]) out[i] = *replaced[i];
  }
  return out;
}

Result<Image> prepare_distribution(const Store& store, const Image& image,
                                   const DistributionOptions& options) {
  return with_context(prepare(store, image, options),
                      "preparing " + image.manifest_digest.str() + " for distribution");
}

}  // namespace imgbuild::image
