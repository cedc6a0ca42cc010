// Pulling an image from a registry into the store: `imgbuild pull`, and what `run`, `mount` and
// a build's FROM call when the image is missing.
//
// The manifest is fetched by tag or digest accepting OCI and Docker media types (index, manifest
// list, OCI manifest, Docker schema 2); from an index the entry for the wanted platform (default:
// the host's) is chosen. Layers whose blob and unpacked copy are both present are skipped; the
// others download in parallel (ClientOptions::parallel), each streamed into the store while its
// digest is verified and, at the same time, extracted (image::StreamingUnpack): decompression and
// tar extraction run as the bytes arrive, not after. A layer directory is adopted only once its
// blob's digest and its tar's diff ID both check out. Only then are config and manifest stored and
// the tag moved, so a failed pull leaves no tag, no image and no unverified blob behind (verified
// blobs of other layers may remain, unreferenced, for prune). A store Lease is held throughout.
//
// Thread-safe; several pulls of the same image into one store (threads or processes) are safe.
// Errors carry "pulling <ref>: " context and name the registry, repository and HTTP status.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/error.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/platform.h"
#include "image/reference.h"
#include "image/store.h"
#include "registry-client/client.h"

namespace imgbuild::registry {

// kLeaveRemote: fetch manifest and config only; the layers missing from the store are recorded
// as remote (image/remote_blobs.h) and fetched when needed (remote_layers.h). A build does this
// for its FROM images when it has a registry cache: a fully cached build needs no base layer.
enum class LayerPolicy { kFetch, kLeaveRemote };

struct PullOptions : ClientOptions {
  std::optional<image::Platform> platform;  // nullopt: Platform::host()
  LayerPolicy layers = LayerPolicy::kFetch;
  // Called once the image manifest is fetched and parsed, before the config is fetched and
  // anything is stored (a lazy mount starts fetching TOCs here, containers/lazy_toc_fetch.h).
  // The pull may still fail after it.
  std::function<void(const image::Manifest&)> on_manifest;
};

struct PullResult {
  image::Digest manifest_digest;  // of the platform's image manifest
  image::Digest config_digest;    // the image ID
  std::optional<image::Digest> index_digest;
  int layers_fetched = 0;  // blobs downloaded (0: the image was already complete)
};

// The four manifest media types, for the Accept header.
std::string manifest_accept_header();

Result<PullResult> pull_image(const image::Store& store, const image::Reference& ref,
                              const PullOptions& options);

}  // namespace imgbuild::registry
