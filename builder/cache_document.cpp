#include "builder/cache_document.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "image/digest.h"
#include "image/media_types.h"

namespace imgbuild::builder {
bool valid_cache_key(const std::string& key) {
  return key.size() == 64 && key.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::optional<CacheRecord> parse_record_head(const nlohmann::json& r,
                                             std::vector<std::string>& problems) {
  CacheRecord record;
  record.key = r.at("key").get<std::string>();
  record.empty_layer = r.value("empty_layer", false);
  record.created = r.value("created", std::string());
  if (!valid_cache_key(record.key)) {
    problems.push_back("record with an invalid key skipped");
    return std::nullopt;
  }
  return record;
}

CacheArtifact make_cache_artifact(std::vector<CacheRecord> records) {
  std::sort(records.begin(), records.end(),
            [](const CacheRecord& a, const CacheRecord& b) { return a.key < b.key; });
  records.erase(
      std::unique(records.begin(), records.end(),
                  [](const CacheRecord& a, const CacheRecord& b) { return a.key == b.key; }),
      records.end());
  CacheArtifact out;
  nlohmann::json list = nlohmann::json::array();
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& record : records) {
    nlohmann::json r = {
        {"key", record.key}, {"empty_layer", record.empty_layer}, {"created", record.created}};
    if (!record.empty_layer) {
      r["diff_id"] = record.diff_id.str();
      r["blob"] = record.blob.to_json();
      if (std::find(out.layers.begin(), out.layers.end(), record.blob) == out.layers.end()) {
        out.layers.push_back(record.blob);
        layers.push_back(record.blob.to_json());
      }
    }
    list.push_back(std::move(r));
  }
  out.records = static_cast<int>(list.size());
  out.config = nlohmann::json{{"records", list}}.dump();
  out.config_descriptor = {std::string(kCacheConfigType), image::Digest::of(out.config),
                           static_cast<int64_t>(out.config.size())};
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", image::media_types::kOciManifest},
                             {"artifactType", kCacheArtifactType},
                             {"config", out.config_descriptor.to_json()},
                             {"layers", layers}};
  out.manifest = manifest.dump();
  out.manifest_descriptor = {std::string(image::media_types::kOciManifest),
                             image::Digest::of(out.manifest),
                             static_cast<int64_t>(out.manifest.size())};
  out.manifest_descriptor.artifact_type = std::string(kCacheArtifactType);
  return out;
}

Result<image::Descriptor> cache_config_descriptor(std::string_view manifest,
                                                  std::string_view where) {
  try {
    auto j = nlohmann::json::parse(manifest);
    auto config = TRY(image::Descriptor::from_json(j.at("config")));
    if (j.value("artifactType", config.media_type) != kCacheArtifactType &&
        config.media_type != kCacheConfigType) {
      return fail(ErrorKind::kInvalidArgument, std::string(where) +
                                                   ": not an imgbuild cache (artifact type " +
                                                   j.value("artifactType", std::string("none")) +
                                                   ", config type " + config.media_type + ")");
    }
    if (config.media_type != kCacheConfigType) {
      return fail(
          ErrorKind::kInvalidArgument,
          std::string(where) + ": not an imgbuild cache (config type " + config.media_type + ")");
    }
    return config;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::kInvalidArgument,
                std::string(where) + ": not an imgbuild cache (" + e.what() + ")");
  }
}

Result<CacheRecords> parse_cache_config(std::string_view config, std::string_view where) {
  CacheRecords out;
  try {
    auto j = nlohmann::json::parse(config);
    for (const auto& r : j.at("records")) {
      auto head = parse_record_head(r, out.problems);
      if (!head) continue;
      CacheRecord record = std::move(*head);
      if (!record.empty_layer) {
        auto diff = image::Digest::parse(r.at("diff_id").get<std::string>());
        auto blob = image::Descriptor::from_json(r.at("blob"));
        if (!diff || !blob) {
          out.problems.push_back("record " + record.key.substr(0, 12) + ": bad descriptor");
          continue;
        }
        record.diff_id = *diff;
        record.blob = *blob;
      }
      out.records.push_back(std::move(record));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::kCorrupt, std::string(where) + ": cache config: " + e.what());
  }
  return out;
}

}  // namespace imgbuild::builder
