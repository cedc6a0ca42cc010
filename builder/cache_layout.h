// The build cache as an OCI image layout directory: `build --cache-to type=local,dest=DIR` and
// `--cache-from type=local,src=DIR` (BuildKit's local cache; what CI systems keep between jobs).
//
//   DIR/oci-layout, DIR/index.json   one manifest, annotated org.opencontainers.image.ref.name
//                                    "imgbuild-cache"
//   manifest  image-spec 1.1 artifact: artifactType application/vnd.imgbuild.cache.v1+json,
//             config (application/vnd.imgbuild.cache.config.v1+json) = the records, layers = the
//             layer blobs the records name (each stored once; blobs already in DIR are kept)
//   config    {"records": [{"key", "empty_layer", "created", "diff_id", "blob": descriptor}]},
//             sorted by key, so the same records give the same digests
//
// Keys are content-based (builder/build_cache.h), so a record made in one store hits in another
// with a different root, user or clock. Export writes blobs first and index.json last (atomic
// rename), so a reader sees the old cache or the new one. Import verifies everything it takes:
// the manifest and config by digest, each blob by digest while it is copied into the store and by
// diff ID when unpacked; a record whose blob fails is skipped (the step runs), never used.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "image/store.h"

namespace imgbuild::builder {

struct CacheExportReport {
  int records = 0;
  int blobs_written = 0;  // blobs that were not in DIR yet
};

Result<CacheExportReport> export_cache_layout(const image::Store& store,
                                              const std::vector<std::string>& keys,
                                              const std::string& dir);

struct CacheImportReport {
  int records = 0;                    // usable records now in the store's cache
  int skipped = 0;                    // records refused (blob missing, corrupt, diff ID mismatch)
  std::vector<std::string> problems;  // why, one line per skipped record
};

// kNotFound when DIR holds no layout; kCorrupt/kInvalidArgument when it is not an imgbuild cache.
Result<CacheImportReport> import_cache_layout(const image::Store& store, const std::string& dir);

}  // namespace imgbuild::builder
