// Store: GC-root records and garbage collection (prune).
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <set>
#include <tuple>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/log.h"
#include "image/json_util.h"
#include "image/media_types.h"
#include "image/store.h"
#include "image/store_state.h"

namespace imgbuild::image {
namespace {

Status read_digests(const nlohmann::json& j, const char* key, std::vector<Digest>& out,
                    std::string_view what) {
  std::vector<std::string> list;
  TRY(json_util::get_string_list(j, key, list, what));
  for (const auto& s : list) {
    auto d = Digest::parse(s);
    if (!d) return json_util::corrupt(what, "\"" + std::string(key) + "\": " + d.error().message());
    out.push_back(*d);
  }
  return {};
}

// Apparent size of a file or tree (what `du --apparent-size` would say), or with allocated the
// bytes it takes on disk (a lazy layer's files are sparse until read), for the report only: what
// cannot be read counts as nothing.
uint64_t tree_size(const std::string& path, bool allocated = false) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) return 0;
  if (!S_ISDIR(st.st_mode)) {
    return allocated ? static_cast<uint64_t>(st.st_blocks) * 512
                     : static_cast<uint64_t>(st.st_size);
  }
  uint64_t total = 0;
  auto names = fs::list_dir(path, fs::MissingDir::kIsEmpty);
  if (!names) return 0;
  for (const auto& n : *names) total += tree_size(fs::join(path, n), allocated);
  return total;
}

struct Marks {
  std::set<Digest> blobs;
  std::set<Digest> layers;
};

// Marks a manifest or index and everything it references that is present. Collection fails
// closed: a blob that is absent marks nothing below it (a platform never pulled), but one that
// cannot be read or parsed aborts the collection, since what it references is unknown.
Status mark_manifest(const Store& store, const Digest& digest, Marks& marks, int depth = 0) {
  if (!marks.blobs.insert(digest).second || depth > 8) return {};
  auto bytes = store.read_blob(digest);
  if (!bytes) {
    if (bytes.error().kind() == ErrorKind::kNotFound) return {};
    return fail(bytes.error().with_context("prune: reading manifest " + digest.str()));
  }
  auto j = TRY_CTX(json_util::parse(*bytes, "manifest " + digest.str()), "prune");
  if (j.contains("manifests")) {
    auto index = TRY_CTX(Index::from_json(j), "prune: index " + digest.str());
    for (const auto& d : index.manifests) TRY(mark_manifest(store, d.digest, marks, depth + 1));
    return {};
  }
  auto m = TRY_CTX(Manifest::from_json(j), "prune: manifest " + digest.str());
  marks.blobs.insert(m.config.digest);
  for (const auto& l : m.layers) marks.blobs.insert(l.digest);
  auto config_bytes = store.read_blob(m.config.digest);
  if (!config_bytes) {
    if (config_bytes.error().kind() == ErrorKind::kNotFound) return {};
    return fail(
        config_bytes.error().with_context("prune: reading config " + m.config.digest.str()));
  }
  auto config =
      TRY_CTX(ImageConfig::parse(*config_bytes), "prune: config " + m.config.digest.str());
  for (const auto& d : config.diff_ids) marks.layers.insert(d);
  return {};
}

// Records from cache/records/*.json, containers/*/refs.json and mounts/*.json.
Result<std::vector<GcRecord>> read_records(const Store& store, const fs::DirLister& list) {
  std::vector<std::string> files;
  for (const auto& n : TRY(list(store.cache_records_dir()))) {
    if (n.ends_with(".json")) files.push_back(fs::join(store.cache_records_dir(), n));
  }
  for (const auto& n : TRY(list(store.containers_dir()))) {
    std::string f = fs::join(fs::join(store.containers_dir(), n), "refs.json");
    if (fs::exists(f)) files.push_back(f);
  }
  for (const auto& n : TRY(list(store.mounts_dir()))) {
    if (n.ends_with(".json")) files.push_back(fs::join(store.mounts_dir(), n));
  }
  std::vector<GcRecord> records;
  for (const auto& f : files) {
    auto text = fs::read_file(f);
    if (!text) {
      if (text.error().errno_value() == ENOENT) continue;  // removed meanwhile
      return fail(text.error().with_context("prune"));
    }
    // A record we cannot read might still protect something: refuse to guess.
    auto j = json_util::parse(*text, f);
    if (!j) return fail(j.error().with_context("prune: GC record"));
    records.push_back(TRY_CTX(GcRecord::from_json(*j), "prune: GC record " + f));
  }
  return records;
}

}  // namespace

nlohmann::json GcRecord::to_json() const {
  auto list = [](const std::vector<Digest>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& d : v) a.push_back(d.str());
    return a;
  };
  return nlohmann::json{
      {"manifests", list(manifests)}, {"blobs", list(blobs)}, {"layers", list(layers)}};
}

Result<GcRecord> GcRecord::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return json_util::corrupt("GC record", "expected a JSON object");
  GcRecord r;
  TRY(read_digests(j, "manifests", r.manifests, "GC record"));
  TRY(read_digests(j, "blobs", r.blobs, "GC record"));
  TRY(read_digests(j, "layers", r.layers, "GC record"));
  return r;
}

Result<PruneReport> Store::prune(PruneMode mode) const {
  auto gc = FileLock::acquire(state_->paths.gc_lock, LockMode::kExclusive, LockWait::kTry);
  if (!gc) {
    log::info("prune: waiting for other imgbuild processes writing to " + state_->paths.root);
    gc = FileLock::acquire(state_->paths.gc_lock, LockMode::kExclusive);
    if (!gc) return fail(gc.error());
  }
  return prune_locked(*this, state_->paths, mode);
}

Result<std::optional<PruneReport>> Store::collect_garbage_if_idle() const {
  auto gc = FileLock::acquire(state_->paths.gc_lock, LockMode::kExclusive, LockWait::kTry);
  if (!gc) {
    if (gc.error().kind() == ErrorKind::kAlreadyExists) return std::optional<PruneReport>();
    return fail(gc.error());
  }
  return std::optional<PruneReport>(
      TRY(prune_locked(*this, state_->paths, PruneMode::kUnreferenced)));
}

Result<PruneReport> prune_locked(const Store& store, const StorePaths& paths, PruneMode mode) {
  return prune_locked(store, paths, mode, [](const std::string& path) {
    return fs::list_dir(path, fs::MissingDir::kIsEmpty);
  });
}

Result<PruneReport> prune_locked(const Store& store, const StorePaths& paths, PruneMode mode,
                                 const fs::DirLister& list) {
  PruneReport report;
  // Everything that decides what is live is read before anything is deleted, so an error in any
  // of it (a root directory, a record, a manifest, a config) aborts with nothing removed.
  std::vector<GcRecord> records = TRY(read_records(store, list));
  std::set<Digest> record_manifests;
  for (const auto& r : records) record_manifests.insert(r.manifests.begin(), r.manifests.end());

  std::vector<IndexEntry> entries;
  {
    FileLock lock = TRY(FileLock::acquire(paths.index_lock, LockMode::kExclusive));
    entries = TRY(read_index_entries(paths));
    if (mode == PruneMode::kDanglingAndUnreferenced) {
      std::vector<IndexEntry> kept;
      for (auto& e : entries) {
        bool dangling = !e.ref && e.descriptor.annotation(media_types::kAnnotationRefName).empty();
        if (dangling && !record_manifests.contains(e.descriptor.digest)) {
          report.untagged_images.push_back(e.descriptor.digest);
        } else {
          kept.push_back(std::move(e));
        }
      }
      if (!report.untagged_images.empty()) TRY(write_index_entries(paths, kept));
      entries = std::move(kept);
    }
  }

  Marks marks;
  for (const auto& e : entries) TRY(mark_manifest(store, e.descriptor.digest, marks));
  for (const auto& r : records) {
    for (const auto& d : r.manifests) TRY(mark_manifest(store, d, marks));
    marks.blobs.insert(r.blobs.begin(), r.blobs.end());
    marks.layers.insert(r.layers.begin(), r.layers.end());
  }
  std::vector<std::string> blob_names = TRY(list(paths.blobs));
  std::vector<std::string> layer_names = TRY(list(paths.layers));
  std::vector<std::string> lazy_names = TRY(list(paths.lazy));
  TRY(sweep_layer_variants(paths, marks.layers, marks.blobs));

  for (const auto& name : blob_names) {
    if (!is_sha256_hex(name)) continue;
    Digest d = Digest::from_hex(name);
    if (marks.blobs.contains(d)) continue;
    std::string path = fs::join(paths.blobs, name);
    uint64_t size = tree_size(path);
    if (::unlink(path.c_str()) < 0) {
      if (errno == ENOENT) continue;
      return fail_errno("unlink", path);
    }
    report.blobs.push_back(d);
    report.reclaimed_bytes += size;
  }
  // Unpacked layers by diff ID; lazily fetched ones by their blob, which the manifests name.
  for (auto [names, dir, live, removed] :
       {std::tuple{&layer_names, &paths.layers, &marks.layers, &report.layers},
        std::tuple{&lazy_names, &paths.lazy, &marks.blobs, &report.lazy_layers}}) {
    for (const auto& name : *names) {
      if (!is_sha256_hex(name)) continue;
      Digest d = Digest::from_hex(name);
      if (live->contains(d)) continue;
      std::string path = fs::join(*dir, name);
      uint64_t size = tree_size(path, dir == &paths.lazy);
      // Move it out first so no reader ever sees a half-deleted layer at its real path.
      fs::TempDir graveyard = TRY(store.make_staging_dir("gc"));
      std::string moved = fs::join(graveyard.path(), "layer");
      if (::rename(path.c_str(), moved.c_str()) < 0) {
        if (errno == ENOENT) continue;
        return fail_errno("rename", path + " -> " + moved);
      }
      removed->push_back(d);
      report.reclaimed_bytes += size;
    }
  }
  // What lazy mounts fetched of a blob (image/partial_blob.h): kept like the lazy trees, and
  // dropped once the whole blob is in the store.
  for (const auto& name : lazy_names) {
    size_t dot = name.find('.');
    if (dot == std::string::npos || !is_sha256_hex(std::string_view(name).substr(0, dot))) continue;
    std::string_view ext = std::string_view(name).substr(dot);
    if (ext.starts_with(".tmp-")) {
      // A lazy tree's staging directory (<hex>.tmp-<pid>) whose maker died before renaming it.
      int pid = std::atoi(std::string(ext.substr(5)).c_str());
      if (pid <= 0 || (::kill(pid, 0) < 0 && errno == ESRCH)) {
        std::string path = fs::join(paths.lazy, name);
        report.reclaimed_bytes += tree_size(path, true);
        TRY(fs::remove_tree(path));
      }
      continue;
    }
    if (ext != ".partial" && ext != ".ranges") continue;
    Digest d = Digest::from_hex(name.substr(0, dot));
    if (marks.blobs.contains(d) && !store.has_blob(d)) continue;
    std::string path = fs::join(paths.lazy, name);
    uint64_t size = tree_size(path, true);
    if (::unlink(path.c_str()) < 0) {
      if (errno == ENOENT) continue;
      return fail_errno("unlink", path);
    }
    if (ext == ".partial") report.partial_blobs.push_back(d);
    report.reclaimed_bytes += size;
  }
  TRY(fs::sync_dir(paths.blobs));
  TRY(fs::sync_dir(paths.layers));
  if (!report.lazy_layers.empty() || !report.partial_blobs.empty()) TRY(fs::sync_dir(paths.lazy));
  return report;
}

}  // namespace imgbuild::image
