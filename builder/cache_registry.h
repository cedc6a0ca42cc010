// The build cache in a registry: `build --cache-to type=registry,ref=REPO:TAG[,mode=max]` and
// `--cache-from type=registry,ref=REPO:TAG` (or a bare REF), BuildKit's registry cache.
//
// Export pushes the artifact of builder/cache_document.h to REF: its layers are the records'
// layers compressed as a push compresses them (image/distribution.h, deterministic), so they are
// the very blobs of the image pushed from the same build: each is checked with HEAD, mounted
// from a repository of the registry known to hold it, or uploaded (registry::push_blobs), and the
// registry stores it once. Then the config, then the manifest under the tag.
//
// Import fetches the manifest and config only (verified by digest) and saves each record in the
// store's cache with `source` = REF. A record whose layer the store lacks is a hit all the same:
// the layer is recorded as left on the registry (image/remote_blobs.h) and fetched, verified by
// digest and diff ID, only when something needs its bytes (a later step, run, mount, save); a
// push to the same registry mounts it registry-side, so a fully cached `build --push` downloads
// no layer. A record already in the store with its layer is kept as it is.
//
// REF may also be an image (or an index: the host platform's image) built with
// `--cache-to type=inline`: its config's records (builder/cache_inline.h) are imported the same
// way, their layers the image's own.
//
// Errors (the caller reports them as warnings and builds without the cache): the registry's;
// kInvalidArgument "not an imgbuild cache" for an image without inline records or any other
// artifact. Thread-safe as the registry client is.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "builder/cache_layout.h"
#include "image/compression.h"
#include "image/reference.h"
#include "image/store.h"
#include "registry-client/client.h"

namespace imgbuild::builder {

struct RegistryCacheOptions {
  registry::ClientOptions client;
  image::Compression compression = image::Compression::kGzip;
};

Result<CacheExportReport> export_cache_registry(const image::Store& store,
                                                const std::vector<std::string>& keys,
                                                const image::Reference& ref,
                                                const RegistryCacheOptions& options);

Result<CacheImportReport> import_cache_registry(const image::Store& store,
                                                const image::Reference& ref,
                                                const RegistryCacheOptions& options);

}  // namespace imgbuild::builder
