// Pushing an image from the store to a registry: `imgbuild push`, and a build's --push.
//
// Uncompressed layers are first compressed (or their compressed variant found in the store) by
// image::prepare_distribution, so what is pushed is that image: same config (image ID), its own
// manifest digest.
//
// Each layer blob is checked with HEAD and skipped when the registry has it, mounted from another
// repository of the same registry when BlobSources knows one, otherwise uploaded (monolithic, or
// chunked when the registry insists); layers go in parallel (ClientOptions::parallel), then the
// config, then the manifest with its original bytes and media type, so the digest the registry
// reports is the image's manifest digest in the store. Images resolved through an index push the
// host platform's manifest.
//
// Thread-safe. Errors carry "pushing <ref>: " context and name registry, repository and status.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/compression.h"
#include "image/digest.h"
#include "image/reference.h"
#include "image/store.h"
#include "registry-client/client.h"
#include "registry-client/session.h"

namespace imgbuild::registry {

struct PushOptions : ClientOptions {
  uint64_t chunk_size = 16u << 20;
  // What uncompressed layers (a build's) are pushed as; see image/distribution.h.
  image::Compression compression = image::Compression::kGzip;
};

struct PushResult {
  image::Digest manifest_digest;
  int64_t manifest_size = 0;
  int blobs_uploaded = 0;
  int blobs_mounted = 0;
  int blobs_existing = 0;
};

struct BlobPushCounts {
  int uploaded = 0;
  int mounted = 0;
  int existing = 0;
};

// The blobs, in parallel, each checked with HEAD, mounted from another repository of the registry
// (BlobSources, or the source of a layer left on the registry: image/remote_blobs.h) or uploaded;
// a layer the store lacks is fetched first when it must be uploaded. Also used by the build cache
// export (builder/cache_registry.h).
Result<BlobPushCounts> push_blobs(Session& session, const image::Store& store,
                                  const std::vector<image::Descriptor>& blobs,
                                  const PushOptions& options);

// PUT /v2/<repo>/manifests/<target> with the bytes as given; kRegistry when the registry reports
// another digest than `digest`.
Status put_manifest(Session& session, const std::string& target, const std::string& media_type,
                    const std::string& bytes, const image::Digest& digest);

// image: anything Store::resolve accepts; dest: where to push (tag or digest).
Result<PushResult> push_image(const image::Store& store, std::string_view image,
                              const image::Reference& dest, const PushOptions& options);

}  // namespace imgbuild::registry
