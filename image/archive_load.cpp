// load_archive: stage an image archive under tmp/, verify all of it, then move it into the store.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>

#include <map>
#include <memory>
#include <optional>
#include <set>

#include "base/fs.h"
#include "base/parallel.h"
#include "base/path_clean.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "image/archive.h"
#include "image/compression_reader.h"
#include "image/json_util.h"
#include "image/layer_extractor.h"
#include "image/media_types.h"

namespace imgbuild::image {
namespace {

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// The largest JSON document (index.json, manifest.json, a manifest, index or config) read into
// memory from an archive.
constexpr int64_t kMaxJsonEntryBytes = int64_t{64} << 20;

Error too_large(std::string_view source, std::string_view entry) {
  return Error(ErrorKind::kLimit, std::string(source) + ": archive entry \"" + std::string(entry) +
                                      "\" is larger than the 64 MiB limit for a JSON document");
}

struct StagedEntry {
  std::string path;  // in the staging directory
  Digest digest;     // sha256 of the content as read
  int64_t size = 0;
};

class StagedArchive {
 public:
  StagedArchive(std::string source, std::string dir)
      : source_(std::move(source)), dir_(std::move(dir)) {}

  Status read(int fd) {
    std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_fd(a.get(), fd, 1 << 16) != ARCHIVE_OK) {
      return fail(ErrorKind::kCorrupt, "reading " + source_ + ": " + archive_error_string(a.get()));
    }
    std::string buf(1 << 20, '\0');
    size_t n_entries = 0;
    while (true) {
      struct archive_entry* e = nullptr;
      int r = archive_read_next_header(a.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        return fail(ErrorKind::kCorrupt,
                    "reading " + source_ + ": " + archive_error_string(a.get()));
      }
      ++n_entries;
      const char* raw = archive_entry_pathname(e);
      auto cleaned = clean_path(raw ? raw : "", DotDot::kReject);
      if (!cleaned) {
        return fail(ErrorKind::kCorrupt, "reading " + source_ + ": archive entry \"" +
                                             std::string(raw) + "\" leaves the archive root");
      }
      std::string name = std::move(*cleaned);
      if (name.empty()) continue;
      auto type = archive_entry_filetype(e);
      if (type == AE_IFDIR) continue;
      if (type == AE_IFLNK) {
        const char* target = archive_entry_symlink(e);
        symlinks_[name] = target ? target : "";
        continue;
      }
      if (type != AE_IFREG) continue;  // devices etc. have no place in an image archive
      std::string staged = fs::join(dir_, "f" + std::to_string(files_.size()));
      UniqueFd out = TRY(sys::open(staged, O_WRONLY | O_CREAT | O_EXCL, 0644));
      Sha256 hasher;
      int64_t size = 0;
      while (true) {
        la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n < 0) {
          return fail(ErrorKind::kCorrupt, "reading " + source_ + ": archive entry \"" + name +
                                               "\": " + archive_error_string(a.get()));
        }
        if (n == 0) break;
        std::string_view chunk(buf.data(), static_cast<size_t>(n));
        TRY(sys::write_all(out.get(), chunk, staged));
        hasher.update(chunk);
        size += n;
      }
      files_[name] = StagedEntry{staged, Digest::from_hex(hasher.finish_hex()), size};
    }
    if (n_entries == 0) return fail(ErrorKind::kCorrupt, "reading " + source_ + ": empty archive");
    return {};
  }

  // The staged file for an archive path, following symlinks inside the archive.
  const StagedEntry* find(std::string_view path, int depth = 0) const {
    std::string name = clean_path(path, DotDot::kReject).value_or("");
    if (auto it = files_.find(name); it != files_.end()) return &it->second;
    auto link = symlinks_.find(name);
    if (link == symlinks_.end() || depth > 16) return nullptr;
    std::string base = name.find('/') == std::string::npos ? "" : name.substr(0, name.rfind('/'));
    std::string target = link->second.starts_with("/") ? link->second : base + "/" + link->second;
    return find(target, depth + 1);
  }

  Result<std::string> read_small(std::string_view path) const {
    const StagedEntry* e = find(path);
    if (!e) return fail(ErrorKind::kCorrupt, missing(path));
    if (e->size > kMaxJsonEntryBytes) return fail(too_large(source_, path));
    return fs::read_file(e->path);
  }

  std::string missing(std::string_view path) const {
    return source_ + ": archive entry \"" + std::string(path) + "\" is missing";
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::string dir_;
  std::map<std::string, StagedEntry> files_;
  std::map<std::string, std::string> symlinks_;
};

struct PendingImage {
  std::string manifest_bytes;  // for generated (Docker archive) manifests; else empty
  Digest manifest_digest;
  Digest config_digest;
  std::vector<Reference> tags;
};

// A layer whose content must be checked against its config's diff ID before anything is stored.
struct LayerCheck {
  std::string file;   // the staged archive entry, or the blob in the store
  std::string label;  // how errors name it: `archive entry "blobs/sha256/ab.."`
  Digest diff_id;
};

class Loader {
 public:
  Loader(const Store& store, const StagedArchive& archive) : store_(store), archive_(archive) {}

  // A blob the image needs: staged in the archive (digest verified) or already in the store.
  // Returns the file holding it, and in *label how errors should name it.
  Result<std::string> need_blob(const Digest& d, std::string_view why, std::string* label) {
    std::string path = "blobs/sha256/" + std::string(d.hex());
    const StagedEntry* e = archive_.find(path);
    if (e) {
      if (e->digest != d) {
        return fail(ErrorKind::kCorrupt, archive_.source() + ": archive entry \"" + path +
                                             "\": digest mismatch (content is " + e->digest.str() +
                                             ")");
      }
      to_ingest_[d] = e->path;
      *label = "archive entry \"" + path + "\"";
      return e->path;
    }
    if (store_.has_blob(d)) {
      *label = "blob " + d.str() + " (already in the store)";
      return store_.blob_path(d);
    }
    return fail(ErrorKind::kCorrupt, archive_.missing(path) + " (" + std::string(why) + ")");
  }

  // A JSON blob the image needs, read whole (at most kMaxJsonEntryBytes).
  Result<std::string> need_json_blob(const Digest& d, std::string_view why) {
    std::string label;
    std::string file = TRY(need_blob(d, why, &label));
    std::string path = "blobs/sha256/" + std::string(d.hex());
    const StagedEntry* e = archive_.find(path);
    int64_t size = e != nullptr ? e->size : TRY(store_.blob_size(d));
    if (size > kMaxJsonEntryBytes) return fail(too_large(archive_.source(), path));
    return e != nullptr ? fs::read_file(file) : store_.read_blob(d);
  }

  Result<PendingImage> oci_entry(const Descriptor& desc) {
    std::string bytes = TRY(need_json_blob(desc.digest, "listed in index.json"));
    PendingImage img;
    img.manifest_digest = desc.digest;
    auto j =
        TRY_CTX(json_util::parse(bytes, "manifest"), archive_.source() + ": " + desc.digest.str());
    if (j.contains("manifests")) {
      Index idx = TRY_CTX(Index::from_json(j), archive_.source() + ": " + desc.digest.str());
      Descriptor child = TRY_CTX(idx.select(Platform::host()), archive_.source());
      return oci_entry(child);
    }
    Manifest m = TRY_CTX(Manifest::from_json(j), archive_.source() + ": " + desc.digest.str());
    TRY(check_image(m));
    img.config_digest = m.config.digest;
    for (const auto& key :
         {media_types::kAnnotationRefName, media_types::kAnnotationContainerdName}) {
      auto ref = Reference::parse(desc.annotation(key));
      if (ref && !ref->tag.empty()) {
        img.tags.push_back(ref->with_tag(ref->tag));
        break;
      }
    }
    return img;
  }

  Status check_image(const Manifest& m) {
    std::string config_bytes = TRY(need_json_blob(m.config.digest, "image config"));
    ImageConfig config = TRY_CTX(ImageConfig::parse(config_bytes), archive_.source());
    if (config.diff_ids.size() != m.layers.size()) {
      return fail(ErrorKind::kCorrupt, archive_.source() + ": image " + m.config.digest.str() +
                                           " has " + std::to_string(m.layers.size()) +
                                           " layers but " + std::to_string(config.diff_ids.size()) +
                                           " diff IDs");
    }
    for (size_t i = 0; i < m.layers.size(); ++i) {
      LayerCheck check{.diff_id = config.diff_ids[i]};
      check.file = TRY(need_blob(m.layers[i].digest, "layer", &check.label));
      layer_checks_.push_back(std::move(check));
    }
    return {};
  }

  Result<PendingImage> docker_entry(const nlohmann::json& entry, size_t i) {
    std::string what = archive_.source() + ": manifest.json[" + std::to_string(i) + "]";
    if (!entry.is_object()) return json_util::corrupt(what, "must be an object");
    std::string config_path;
    std::vector<std::string> layer_paths, repo_tags;
    TRY(json_util::get_string(entry, "Config", config_path, what));
    TRY(json_util::get_string_list(entry, "Layers", layer_paths, what));
    TRY(json_util::get_string_list(entry, "RepoTags", repo_tags, what));
    const StagedEntry* config_file = archive_.find(config_path);
    if (!config_file) return fail(ErrorKind::kCorrupt, archive_.missing(config_path));
    std::string config_bytes = TRY(archive_.read_small(config_path));
    ImageConfig config = TRY_CTX(ImageConfig::parse(config_bytes), what);
    if (config.diff_ids.size() != layer_paths.size()) {
      return json_util::corrupt(what, "lists " + std::to_string(layer_paths.size()) +
                                          " layers but the config has " +
                                          std::to_string(config.diff_ids.size()) + " diff IDs");
    }
    Manifest m;
    m.media_type = std::string(media_types::kOciManifest);
    m.config = Descriptor{.media_type = std::string(media_types::kOciConfig),
                          .digest = config_file->digest,
                          .size = config_file->size};
    to_ingest_[config_file->digest] = config_file->path;
    for (size_t k = 0; k < layer_paths.size(); ++k) {
      const StagedEntry* layer = archive_.find(layer_paths[k]);
      if (!layer) return fail(ErrorKind::kCorrupt, archive_.missing(layer_paths[k]));
      std::string media_type = TRY(sniff_layer_type(layer->path));
      layer_checks_.push_back(LayerCheck{.file = layer->path,
                                         .label = "archive entry \"" + layer_paths[k] + "\"",
                                         .diff_id = config.diff_ids[k]});
      m.layers.push_back(
          Descriptor{.media_type = media_type, .digest = layer->digest, .size = layer->size});
      to_ingest_[layer->digest] = layer->path;
    }
    PendingImage img;
    img.manifest_bytes = m.serialize();
    img.manifest_digest = Digest::of(img.manifest_bytes);
    img.config_digest = config_file->digest;
    for (const auto& t : repo_tags) {
      auto ref = Reference::parse(t);
      if (!ref) return fail(ref.error().with_context(what + ": RepoTags"));
      img.tags.push_back(ref->with_tag(ref->tag));
    }
    return img;
  }

  static Result<std::string> sniff_layer_type(const std::string& path) {
    UniqueFd fd = TRY(sys::open(path, O_RDONLY));
    char magic[4] = {};
    size_t n = TRY(sys::read_some(fd.get(), std::span<char>(magic, 4), path));
    auto b = [&](int i) { return static_cast<unsigned char>(magic[i]); };
    if (n >= 2 && b(0) == 0x1f && b(1) == 0x8b) return std::string(media_types::kOciLayerGzip);
    if (n >= 4 && b(0) == 0x28 && b(1) == 0xb5 && b(2) == 0x2f && b(3) == 0xfd) {
      return std::string(media_types::kOciLayerZstd);
    }
    return std::string(media_types::kOciLayer);
  }

  const std::map<Digest, std::string>& to_ingest() const { return to_ingest_; }
  const std::vector<LayerCheck>& layer_checks() const { return layer_checks_; }

 private:
  const Store& store_;
  const StagedArchive& archive_;
  std::map<Digest, std::string> to_ingest_;
  std::vector<LayerCheck> layer_checks_;
};

// sha256 of a layer's uncompressed stream.
Result<Digest> plain_digest(const std::string& file) {
  UniqueFd fd = TRY(sys::open(file, O_RDONLY));
  auto reader = TRY(DecompressReader::open(fd.get()));
  Sha256 hasher;
  for (;;) {
    std::string_view chunk = TRY(reader->next());
    if (chunk.empty()) break;
    hasher.update(chunk);
  }
  return Digest::from_hex(hasher.finish_hex());
}

// Checks every layer as `docker load` does: its uncompressed content must hash to the diff ID its
// config names, and it must extract under the hostile-tar rules (layer_extractor.h). A layer not
// yet unpacked in the store is extracted into staging_dir; the directories to adopt once
// everything has checked out are returned, by diff ID. A layer the store has unpacked already is
// only hashed: the same diff ID is the same tar, which extracted safely before. Two at a time,
// since decompression and hashing are CPU-bound.
Result<std::map<Digest, std::string>> verify_layers(const Store& store, std::string_view source,
                                                    const std::vector<LayerCheck>& checks,
                                                    const std::string& staging_dir) {
  struct Job {
    const LayerCheck* check;
    std::string extract_to;  // empty: hash only
  };
  std::vector<Job> jobs;
  std::set<std::pair<std::string, Digest>> seen;
  std::map<Digest, std::string> to_adopt;
  for (const auto& c : checks) {
    if (!seen.insert({c.file, c.diff_id}).second) continue;
    std::string target;
    if (!store.has_layer(c.diff_id) && !to_adopt.contains(c.diff_id)) {
      target = fs::join(staging_dir, "layer-" + std::string(c.diff_id.hex()));
      to_adopt[c.diff_id] = target;
    }
    jobs.push_back(Job{&c, target});
  }
  TRY(for_each_parallel(jobs.size(), 2, [&](size_t k) -> Status {
    const LayerCheck& c = *jobs[k].check;
    auto run = [&]() -> Status {
      Digest got;
      if (jobs[k].extract_to.empty()) {
        got = TRY(plain_digest(c.file));
      } else {
        UniqueFd fd = TRY(sys::open(c.file, O_RDONLY));
        got = TRY(extract_layer(fd.get(), jobs[k].extract_to)).diff_id;
      }
      if (got != c.diff_id) {
        return fail(ErrorKind::kCorrupt, "diff ID mismatch: the image config says " +
                                             c.diff_id.str() + ", the layer's content hashes to " +
                                             got.str());
      }
      return {};
    };
    if (auto st = run(); !st) {
      return fail(st.error().with_context(std::string(source) + ": " + c.label));
    }
    return {};
  }));
  return to_adopt;
}

}  // namespace

Result<std::vector<LoadedImage>> load_archive(const Store& store, int in_fd,
                                              std::string_view source) {
  Store::Lease lease = TRY(store.lease());
  fs::TempDir staging = TRY(store.make_staging_dir("load"));
  StagedArchive archive(std::string(source), staging.path());
  TRY(archive.read(in_fd));

  Loader loader(store, archive);
  std::vector<PendingImage> pending;
  if (archive.find("index.json")) {
    std::string text = TRY(archive.read_small("index.json"));
    Index index = TRY_CTX(Index::parse(text), std::string(source) + ": index.json");
    for (const auto& d : index.manifests) pending.push_back(TRY(loader.oci_entry(d)));
  } else if (archive.find("manifest.json")) {
    std::string text = TRY(archive.read_small("manifest.json"));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
      return fail(ErrorKind::kCorrupt,
                  std::string(source) + ": manifest.json: expected a JSON array");
    }
    for (size_t i = 0; i < j.size(); ++i) pending.push_back(TRY(loader.docker_entry(j[i], i)));
  } else {
    return fail(ErrorKind::kCorrupt, std::string(source) +
                                         ": not an image archive (neither index.json nor "
                                         "manifest.json found)");
  }
  if (pending.empty()) {
    return fail(ErrorKind::kCorrupt, std::string(source) + ": the archive lists no images");
  }

  std::map<Digest, std::string> layer_dirs =
      TRY(verify_layers(store, source, loader.layer_checks(), staging.path()));

  // Everything is verified; only now does anything enter the store.
  for (const auto& [digest, path] : loader.to_ingest()) {
    if (store.has_blob(digest)) continue;
    TRY(store.ingest_blob_file(path, digest, Verify::kTrustCaller));
  }
  for (const auto& [diff_id, dir] : layer_dirs) TRY(store.adopt_layer_dir(dir, diff_id));
  std::vector<LoadedImage> loaded;
  for (auto& img : pending) {
    if (!img.manifest_bytes.empty()) TRY(store.put_blob(img.manifest_bytes));
    if (img.tags.empty()) {
      TRY(store.record_image(img.manifest_digest));
    } else {
      for (const auto& t : img.tags) TRY(store.tag(t, img.manifest_digest));
    }
    loaded.push_back(LoadedImage{img.manifest_digest, img.config_digest, img.tags});
  }
  return loaded;
}

}  // namespace imgbuild::image
