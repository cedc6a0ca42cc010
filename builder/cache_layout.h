// The build cache as an OCI image layout directory: `build --cache-to type=local,dest=DIR` and
// `--cache-from type=local,src=DIR` (BuildKit's local cache; what CI systems keep between jobs).
//
//   DIR/oci-layout, DIR/index.json   one manifest, annotated org.opencontainers.image.ref.name
//                                    "imgbuild-cache": the artifact of builder/cache_document.h,
//                                    whose layers are the store's blobs (uncompressed tars)
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
