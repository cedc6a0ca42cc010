#include "containers/image_pull.h"

#include "image/reference.h"
#include "registry-client/pull.h"
#include "registry-client/remote_layers.h"

namespace imgbuild::containers {
namespace {

// A name the store resolves as an image ID, never as a reference to pull.
bool is_image_id(std::string_view name) {
  if (name.starts_with("sha256:")) return true;
  if (name.size() != 64) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<image::Image> pull(const image::Store& store, const image::Reference& ref,
                          registry::Progress* progress) {
  registry::PullOptions options;
  options.progress = progress;
  auto pulled = TRY(registry::pull_image(store, ref, options));
  if (progress != nullptr) {
    const image::Digest& shown =
        pulled.index_digest ? *pulled.index_digest : pulled.manifest_digest;
    progress->message("Digest: " + shown.str());
    progress->message(
        std::string("Status: ") +
        (pulled.layers_fetched > 0 ? "Downloaded newer image" : "Image is up to date") + " for " +
        ref.familiar());
  }
  return store.load_image(pulled.manifest_digest);
}

}  // namespace

Result<PullPolicy> parse_pull_policy(std::string_view text) {
  if (text == "missing" || text.empty()) return PullPolicy::kMissing;
  if (text == "always") return PullPolicy::kAlways;
  if (text == "never") return PullPolicy::kNever;
  return fail(ErrorKind::kInvalidArgument,
              "invalid pull option: '" + std::string(text) +
                  "': must be one of \"always\", \"missing\" or \"never\"");
}

namespace {

// The image with its layers all in the store (a build from a registry cache may have left some
// on the registry: image/remote_blobs.h).
Result<image::Image> completed(const image::Store& store, image::Image img,
                               registry::Progress* progress) {
  registry::ClientOptions options;
  options.progress = progress;
  TRY(registry::complete_image(store, img, options));
  return img;
}

}  // namespace

Result<image::Image> ensure_image(const image::Store& store, const std::string& name,
                                  PullPolicy policy, registry::Progress* progress) {
  if (is_image_id(name)) return completed(store, TRY(store.resolve(name)), progress);
  auto ref = image::Reference::parse(name);
  if (policy == PullPolicy::kAlways && ref) return pull(store, *ref, progress);
  auto local = store.resolve(name);
  if (local) return completed(store, std::move(*local), progress);
  if (local.error().kind() != ErrorKind::kNotFound || !ref) return local;
  if (policy == PullPolicy::kNever) {
    return fail(ErrorKind::kNotFound, "No such image: " + ref->familiar());
  }
  if (progress != nullptr) {
    progress->message("Unable to find image '" + ref->familiar() + "' locally");
  }
  return pull(store, *ref, progress);
}

}  // namespace imgbuild::containers
