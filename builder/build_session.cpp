#include "builder/build_session.h"

#include "builder/dockerignore_filter.h"
#include "image/remote_blobs.h"
#include "registry-client/remote_layers.h"

namespace imgbuild::builder {

Result<BuildContext*> BuildSession::context() {
  std::lock_guard lock(context_mu_);
  if (context_) return &*context_;
  auto matcher = TRY(dockerfile::load_dockerignore(context_abs, options.dockerfile_path));
  filter_ = std::make_unique<DockerignoreFilter>(std::move(matcher));
  std::string index = cache.context_index_path(context_abs);
  context_ = TRY(BuildContext::open(context_abs, *filter_, index));
  return &*context_;
}

Status BuildSession::save_context_index() {
  std::lock_guard lock(context_mu_);
  if (!context_) return {};
  return context_->index().save();
}

Result<std::vector<std::string>> BuildSession::layer_dirs(
    const std::vector<LayerRef>& layers) const {
  // Layers a registry cache hit left on the registry come home first, together.
  std::vector<registry::LayerJob> remote;
  for (const auto& l : layers) {
    if (!store.has_blob(l.blob.digest) && !store.has_layer(l.diff_id)) {
      remote.push_back({l.blob, l.diff_id});
    }
  }
  if (!remote.empty()) {
    auto fetched = registry::fetch_remote_layers(store, remote, options.registry);
    if (!fetched) {
      // Layers that cannot be had, one by one, are forgotten: their cache records miss from now
      // on, so the engine runs the stage again and those steps run (a tampered or vanished blob
      // never lands in the store). The others have arrived meanwhile.
      for (const auto& job : remote) {
        if (store.has_blob(job.blob.digest)) continue;
        if (!registry::fetch_remote_layers(store, {job}, options.registry)) {
          (void)image::forget_remote_blob(store, job.blob.digest);
        }
      }
      remote_dropped_.store(true);
      return fail(fetched.error().with_context("a layer of the registry cache"));
    }
  }
  std::vector<std::string> dirs;
  dirs.reserve(layers.size());
  for (const auto& l : layers) {
    if (store.has_layer(l.diff_id)) {
      dirs.push_back(store.layer_path(l.diff_id));
    } else {
      dirs.push_back(TRY(store.unpack_layer(l.blob, l.diff_id)));
    }
  }
  return dirs;
}

Result<image::Image> BuildSession::image(const std::string& name) {
  std::lock_guard lock(image_mu_);
  // An image ID (a digest or a run of hex) names local content: nothing to pull.
  bool id_like =
      image::Digest::parse(name).has_value() ||
      (name.size() >= 12 && name.find_first_not_of("0123456789abcdef") == std::string::npos);
  if (options.pull_always && options.pull && !id_like) {
    if (auto ref = image::Reference::parse(name)) return options.pull(*ref);
  }
  auto found = store.resolve(name);
  if (found) return found;
  if (found.error().kind() != ErrorKind::kNotFound || !options.pull) return found;
  auto ref = image::Reference::parse(name);
  if (!ref) return std::unexpected(ref.error());
  return options.pull(*ref);  // its errors already say "pulling <ref>: ..."
}

std::string BuildSession::now_created() const {
  if (options.source_date_epoch) return image::rfc3339_utc(*options.source_date_epoch);
  return image::rfc3339_now();
}

void BuildSession::set_result(size_t dockerfile_index, StageResult result) {
  std::lock_guard lock(results_mu_);
  results_[dockerfile_index] = std::make_unique<StageResult>(std::move(result));
}

const StageResult* BuildSession::result(size_t dockerfile_index) const {
  std::lock_guard lock(results_mu_);
  auto it = results_.find(dockerfile_index);
  return it == results_.end() ? nullptr : it->second.get();
}

}  // namespace imgbuild::builder
