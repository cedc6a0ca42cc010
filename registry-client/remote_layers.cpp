#include "registry-client/remote_layers.h"

#include <map>
#include <utility>

#include "image/remote_blobs.h"

namespace imgbuild::registry {

Result<int> fetch_remote_layers(const image::Store& store, const std::vector<LayerJob>& layers,
                                const ClientOptions& options) {
  std::map<std::pair<std::string, std::string>, std::vector<LayerJob>> by_source;
  for (const auto& job : layers) {
    if (store.has_blob(job.blob.digest)) continue;
    auto remote = image::find_remote_blob(store, job.blob.digest);
    if (!remote) {
      return fail(ErrorKind::kNotFound, "layer " + job.blob.digest.str() +
                                            " is not in the store and no registry is known "
                                            "to hold it");
    }
    const auto& source = remote->sources.front();
    by_source[{source.registry, source.repository}].push_back(job);
  }
  int fetched = 0;
  for (const auto& [source, jobs] : by_source) {
    const auto& [registry, repository] = source;
    std::string context = "fetching " + std::string(jobs.size() == 1 ? "a layer" : "layers") +
                          " from " + registry + "/" + repository;
    auto conn = TRY_CTX(Connection::open(registry, repository, Access::kPull, options), context);
    fetched += TRY_CTX(fetch_layers(conn->session(), store, jobs, options), context);
  }
  return fetched;
}

Result<int> complete_image(const image::Store& store, const image::Image& image,
                           const ClientOptions& options) {
  const auto& layers = image.manifest.layers;
  if (layers.size() != image.config.diff_ids.size()) {
    return fail(ErrorKind::kCorrupt, "image " + image.manifest_digest.str() +
                                         ": manifest and config disagree on layers");
  }
  std::vector<LayerJob> jobs;
  for (size_t i = 0; i < layers.size(); ++i) jobs.push_back({layers[i], image.config.diff_ids[i]});
  return fetch_remote_layers(store, jobs, options);
}

}  // namespace imgbuild::registry
