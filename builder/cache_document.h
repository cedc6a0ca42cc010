// The build cache as an OCI artifact, the form it takes outside the store: in a local OCI layout
// (cache_layout.h), in a registry (cache_registry.h).
//
//   manifest  image-spec 1.1 artifact: mediaType application/vnd.oci.image.manifest.v1+json,
//             artifactType application/vnd.imgbuild.cache.v1+json, config (media type
//             application/vnd.imgbuild.cache.config.v1+json) = the records, layers = the layer
//             blobs the records name, each once
//   config    {"records": [{"key", "empty_layer", "created", "diff_id", "blob": descriptor}]},
//             sorted by key, so the same records give the same digests
//
// Keys are content-based (builder/build_cache.h, docs/cache_key.md), so a record made in one
// store hits in another with a different root, user or clock. Reading verifies the shape: a
// document that is not an imgbuild cache is kInvalidArgument ("not an imgbuild cache ..."), a
// record that does not parse is skipped with a reason; digests are the caller's to check.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "builder/build_cache.h"
#include "image/descriptor.h"

namespace imgbuild::builder {

inline constexpr std::string_view kCacheArtifactType = "application/vnd.imgbuild.cache.v1+json";
inline constexpr std::string_view kCacheConfigType =
    "application/vnd.imgbuild.cache.config.v1+json";

struct CacheArtifact {
  int records = 0;     // distinct records listed
  std::string config;  // the records document
  image::Descriptor config_descriptor;
  std::vector<image::Descriptor> layers;  // distinct, in key order
  std::string manifest;
  image::Descriptor manifest_descriptor;  // with artifactType, for an index entry
};

// records carry the blob descriptors as they are stored where the artifact goes.
CacheArtifact make_cache_artifact(std::vector<CacheRecord> records);

// The config descriptor of an artifact manifest, after checking it is an imgbuild cache. `where`
// names the document in errors.
Result<image::Descriptor> cache_config_descriptor(std::string_view manifest,
                                                  std::string_view where);

// 64 lowercase hex digits, as KeyInputs::key() makes them.
bool valid_cache_key(const std::string& key);

// key, empty_layer and created of one record of either form; nullopt (with a line in problems)
// for an invalid key. Throws nlohmann::json::exception for a record without a key.
std::optional<CacheRecord> parse_record_head(const nlohmann::json& r,
                                             std::vector<std::string>& problems);

struct CacheRecords {
  std::vector<CacheRecord> records;
  std::vector<std::string> problems;  // one line per record skipped
};

Result<CacheRecords> parse_cache_config(std::string_view config, std::string_view where);

}  // namespace imgbuild::builder
