// Blobs the store does not hold but knows where to fetch: layers that a build took from a registry
// cache (builder/cache_registry.h) or that a metadata-only pull left on the registry. An image
// may reference such a layer; it is fetched when something needs its bytes (a build step running
// on it, run, mount, save, --output) and mounted registry-side when the image is pushed to the
// same registry, so a fully cached `build --push` downloads no layer at all.
//
//   <root>/remote/sha256/<hex>.json
//     {"blob": <descriptor>, "diff_id": "sha256:...",
//      "sources": [{"registry": "localhost:5000", "repository": "app-cache"}, ...]}
//
// A hint, never trusted for content: whatever is fetched is verified against the descriptor's
// digest and the diff ID before it enters the store. Written atomically (temp + rename); a
// concurrent writer of the same digest may drop the other's source (at most one hint lost).
// At most 8 sources are kept per blob, most recent first. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/digest.h"

namespace imgbuild::image {

class Store;

struct BlobSource {
  std::string registry;
  std::string repository;
  bool operator==(const BlobSource&) const = default;
};

struct RemoteBlob {
  Descriptor blob;
  Digest diff_id;
  std::vector<BlobSource> sources;  // most recent first
};

// Adds source (first) to the blob's record, creating it.
Status record_remote_blob(const Store& store, const Descriptor& blob, const Digest& diff_id,
                          const BlobSource& source);

// nullopt when nothing is recorded for digest (or the record is unreadable: it is only a hint).
std::optional<RemoteBlob> find_remote_blob(const Store& store, const Digest& digest);

// Drops the record (a source that served bad bytes, or none that still has them).
Status forget_remote_blob(const Store& store, const Digest& digest);

// <root>/remote/sha256
std::string remote_blobs_dir(const Store& store);

}  // namespace imgbuild::image
