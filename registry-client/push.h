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

#include "base/error.h"
#include "image/compression.h"
#include "image/digest.h"
#include "image/reference.h"
#include "image/store.h"
#include "registry-client/client.h"

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

// image: anything Store::resolve accepts; dest: where to push (tag or digest).
Result<PushResult> push_image(const image::Store& store, std::string_view image,
                              const image::Reference& dest, const PushOptions& options);

}  // namespace imgbuild::registry
