#include "builder/cache_layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/sys.h"
#include "builder/build_cache.h"
#include "builder/cache_document.h"
#include "image/blob_writer.h"
#include "image/descriptor.h"
#include "image/digest.h"

namespace imgbuild::builder {
namespace {

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
Result<std::string> read_document(const std::string& dir, const image::Descriptor& desc) {
  if (desc.size < 0 || static_cast<size_t>(desc.size) > kMaxDocument) {
    return fail(ErrorKind::kCorrupt, desc.digest.str() + ": document too large");
  }
  std::string text = TRY(fs::read_file(blob_path(dir, desc.digest)));
  if (image::Digest::of(text) != desc.digest) {
    return fail(ErrorKind::kCorrupt, blob_path(dir, desc.digest) + ": digest mismatch");
  }
  return text;
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
  TRY(fs::make_dirs(fs::join(dir, "blobs/sha256")));
  std::vector<CacheRecord> records;
  for (const auto& key : keys) {
    auto record = cache.lookup(key);
    if (!record) continue;  // pruned meanwhile: the next build makes it again
    // A layer still on a registry (a registry cache hit never needed here) is left out: the
    // registry cache holds it.
    if (!record->empty_layer && !store.has_blob(record->blob.digest)) continue;
    records.push_back(std::move(*record));
  }
  CacheArtifact artifact = make_cache_artifact(std::move(records));
  CacheExportReport report;
  report.records = artifact.records;
  for (const auto& layer : artifact.layers) {
    if (TRY(copy_blob_out(store, layer.digest, dir))) ++report.blobs_written;
  }
  TRY(write_small_blob(dir, artifact.config));
  TRY(write_small_blob(dir, artifact.manifest));
  image::Descriptor entry = artifact.manifest_descriptor;
  entry.annotations["org.opencontainers.image.ref.name"] = kRefName;
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.index.v1+json"},
                          {"manifests", {entry.to_json()}}};
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
      if (m.value("artifactType", "") != kCacheArtifactType) continue;
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
                                                 std::string(kCacheArtifactType) + ")");
  }
  std::string manifest = TRY(read_document(dir, *manifest_desc));
  auto config_desc = TRY(cache_config_descriptor(manifest, dir));
  std::string config = TRY(read_document(dir, config_desc));
  CacheRecords parsed = TRY(parse_cache_config(config, dir));
  CacheImportReport report;
  report.problems = parsed.problems;
  report.skipped = static_cast<int>(parsed.problems.size());
  BuildCache cache(store);
  auto lease = TRY(store.lease());
  for (auto& record : parsed.records) {
    if (!record.empty_layer) {
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
  return report;
}

}  // namespace imgbuild::builder
