#include "builder/cache_layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/sys.h"
#include "builder/build_cache.h"
#include "image/blob_writer.h"
#include "image/descriptor.h"
#include "image/digest.h"

namespace imgbuild::builder {
namespace {

constexpr const char* kArtifactType = "application/vnd.imgbuild.cache.v1+json";
constexpr const char* kConfigType = "application/vnd.imgbuild.cache.config.v1+json";
constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kRefName = "imgbuild-cache";
constexpr size_t kMaxDocument = 64u << 20;

std::string blob_path(const std::string& dir, const image::Digest& d) {
  return fs::join(dir, "blobs/sha256/" + std::string(d.hex()));
}

// Copies the store's blob into the layout unless it is there already (same digest, same bytes).
Result<bool> copy_blob_out(const image::Store& store, const image::Digest& d,
                           const std::string& dir) {
  std::string dest = blob_path(dir, d);
  if (fs::exists(dest)) return false;
  UniqueFd in = TRY(store.open_blob(d));
  std::string tmp = dest + ".tmp-" + std::to_string(::getpid());
  UniqueFd out = TRY(sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  std::array<char, 1 << 16> buf;
  for (;;) {
    size_t n = TRY(sys::read_some(in.get(), buf, store.blob_path(d)));
    if (n == 0) break;
    TRY(sys::write_all(out.get(), std::string_view(buf.data(), n), tmp));
  }
  TRY(sys::fsync(out.get(), tmp));
  out.reset();
  if (::rename(tmp.c_str(), dest.c_str()) < 0) return fail_errno("rename", dest);
  return true;
}

Status write_small_blob(const std::string& dir, const std::string& data) {
  image::Digest d = image::Digest::of(data);
  std::string dest = blob_path(dir, d);
  if (fs::exists(dest)) return {};
  return fs::write_file_atomic(dest, data, 0644);
}

// A document of the layout, verified against its digest.
Result<nlohmann::json> read_document(const std::string& dir, const image::Descriptor& desc) {
  if (desc.size < 0 || static_cast<size_t>(desc.size) > kMaxDocument) {
    return fail(ErrorKind::kCorrupt, desc.digest.str() + ": document too large");
  }
  std::string text = TRY(fs::read_file(blob_path(dir, desc.digest)));
  if (image::Digest::of(text) != desc.digest) {
    return fail(ErrorKind::kCorrupt, blob_path(dir, desc.digest) + ": digest mismatch");
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::kCorrupt, blob_path(dir, desc.digest) + ": " + e.what());
  }
}

// Copies a layout blob into the store, verifying digest and size as it goes.
Status ingest_blob(const image::Store& store, const std::string& dir,
                   const image::Descriptor& desc) {
  if (store.has_blob(desc.digest)) return {};
  std::string path = blob_path(dir, desc.digest);
  UniqueFd in = TRY(sys::open(path, O_RDONLY | O_CLOEXEC));
  image::BlobWriter writer = TRY(store.blob_writer());
  std::array<char, 1 << 16> buf;
  for (;;) {
    size_t n = TRY(sys::read_some(in.get(), buf, path));
    if (n == 0) break;
    TRY(writer.write(std::string_view(buf.data(), n)));
  }
  TRY(writer.commit(desc.digest, desc.size));
  return {};
}

}  // namespace

Result<CacheExportReport> export_cache_layout(const image::Store& store,
                                              const std::vector<std::string>& keys,
                                              const std::string& dir) {
  BuildCache cache(store);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  TRY(fs::make_dirs(fs::join(dir, "blobs/sha256")));
  CacheExportReport report;
  nlohmann::json records = nlohmann::json::array();
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& key : sorted) {
    auto record = cache.lookup(key);
    if (!record) continue;  // pruned meanwhile: the next build makes it again
    nlohmann::json r = {
        {"key", record->key}, {"empty_layer", record->empty_layer}, {"created", record->created}};
    if (!record->empty_layer) {
      r["diff_id"] = record->diff_id.str();
      r["blob"] = record->blob.to_json();
      if (TRY(copy_blob_out(store, record->blob.digest, dir))) ++report.blobs_written;
      if (std::find(layers.begin(), layers.end(), record->blob.to_json()) == layers.end()) {
        layers.push_back(record->blob.to_json());
      }
    }
    records.push_back(std::move(r));
    ++report.records;
  }
  std::string config = nlohmann::json{{"records", records}}.dump();
  TRY(write_small_blob(dir, config));
  image::Descriptor config_desc{kConfigType, image::Digest::of(config),
                                static_cast<int64_t>(config.size())};
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", kManifestType},
                             {"artifactType", kArtifactType},
                             {"config", config_desc.to_json()},
                             {"layers", layers}};
  std::string manifest_text = manifest.dump();
  TRY(write_small_blob(dir, manifest_text));
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.index.v1+json"},
                          {"manifests",
                           {{{"mediaType", kManifestType},
                             {"artifactType", kArtifactType},
                             {"digest", image::Digest::of(manifest_text).str()},
                             {"size", manifest_text.size()},
                             {"annotations", {{"org.opencontainers.image.ref.name", kRefName}}}}}}};
  TRY(fs::write_file_atomic(fs::join(dir, "oci-layout"), R"({"imageLayoutVersion":"1.0.0"})",
                            0644));
  TRY(fs::write_file_atomic(fs::join(dir, "index.json"), index.dump(), 0644));
  return report;
}

Result<CacheImportReport> import_cache_layout(const image::Store& store, const std::string& dir) {
  std::string index_path = fs::join(dir, "index.json");
  auto index_text = fs::read_file(index_path);
  if (!index_text) {
    if (index_text.error().kind() == ErrorKind::kNotFound) {
      return fail(ErrorKind::kNotFound, dir + ": no cache there (no index.json)");
    }
    return fail(index_text.error());
  }
  std::optional<image::Descriptor> manifest_desc;
  try {
    auto index = nlohmann::json::parse(*index_text);
    for (const auto& m : index.at("manifests")) {
      if (m.value("artifactType", "") != kArtifactType) continue;
      manifest_desc = TRY(image::Descriptor::from_json(m));
      break;
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::kCorrupt, index_path + ": " + e.what());
  }
  if (!manifest_desc) {
    return fail(ErrorKind::kInvalidArgument, dir +
                                                 ": not an imgbuild cache (no manifest of "
                                                 "artifact type " +
                                                 kArtifactType + ")");
  }
  nlohmann::json manifest = TRY(read_document(dir, *manifest_desc));
  CacheImportReport report;
  BuildCache cache(store);
  try {
    auto config_desc = TRY(image::Descriptor::from_json(manifest.at("config")));
    if (config_desc.media_type != kConfigType) {
      return fail(ErrorKind::kInvalidArgument,
                  dir + ": not an imgbuild cache (config type " + config_desc.media_type + ")");
    }
    nlohmann::json config = TRY(read_document(dir, config_desc));
    auto lease = TRY(store.lease());
    for (const auto& r : config.at("records")) {
      CacheRecord record;
      record.key = r.at("key").get<std::string>();
      record.empty_layer = r.value("empty_layer", false);
      record.created = r.value("created", std::string());
      if (record.key.size() != 64 ||
          record.key.find_first_not_of("0123456789abcdef") != std::string::npos) {
        report.problems.push_back("record with an invalid key skipped");
        ++report.skipped;
        continue;
      }
      if (!record.empty_layer) {
        auto diff = image::Digest::parse(r.at("diff_id").get<std::string>());
        auto blob = image::Descriptor::from_json(r.at("blob"));
        if (!diff || !blob) {
          report.problems.push_back("record " + record.key.substr(0, 12) + ": bad descriptor");
          ++report.skipped;
          continue;
        }
        record.diff_id = *diff;
        record.blob = *blob;
        Status ok = ingest_blob(store, dir, record.blob);
        if (ok && !store.has_layer(record.diff_id)) {
          auto unpacked = store.unpack_layer(record.blob, record.diff_id);
          if (!unpacked) ok = fail(unpacked.error());
        }
        if (!ok) {
          report.problems.push_back("record " + record.key.substr(0, 12) + ": " +
                                    ok.error().message());
          ++report.skipped;
          continue;
        }
      }
      TRY(cache.save(record));
      ++report.records;
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::kCorrupt, dir + ": cache config: " + e.what());
  }
  return report;
}

}  // namespace imgbuild::builder
