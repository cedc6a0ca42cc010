#include "containers/lazy_mount.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "base/fs.h"
#include "base/log.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "containers/lazy_blob_bytes.h"
#include "containers/lazy_prefetch.h"
#include "containers/lazy_toc_fetch.h"
#include "containers/lazy_whole_layer.h"
#include "image/estargz_skeleton.h"
#include "image/estargz_toc.h"
#include "image/partial_blob.h"
#include "registry-client/estargz_remote.h"
#include "registry-client/pull.h"

namespace imgbuild::containers {
namespace {

bool is_marked(const std::string& path) {
  return ::lgetxattr(path.c_str(), std::string(image::kLazyXattr).c_str(), nullptr, 0) >= 0;
}

// What the server process needs to fill files: shared by copies of the fill function.
struct Filler {
  std::string registry;
  std::string repository;
  registry::ClientOptions options;
  std::vector<std::string> dirs;                              // parallel to lowers
  std::vector<std::shared_ptr<image::EstargzIndex>> indexes;  // null for the others
  std::vector<std::shared_ptr<WholeLayer>> wholes;  // layers that are not eStargz, else null
  std::vector<image::Digest> blobs;
  std::vector<std::unique_ptr<BlobBytesKeeper>> keepers;  // used under mu
  std::mutex mu;                                          // one fetch at a time, on one connection
  std::unique_ptr<registry::Connection> connection;
  // Directories made (image/estargz_skeleton.h), by layer; called under imgfs's lock, then this.
  std::mutex dir_mu;
  std::vector<std::unordered_set<std::string>> made;
  std::vector<UniqueFd> roots;  // opened in the server process, on first use

  Status open_root(size_t layer) {  // under dir_mu
    if (made.size() != dirs.size()) {
      made.resize(dirs.size());
      roots.resize(dirs.size());
    }
    if (!roots[layer]) {
      roots[layer].reset(::open(dirs[layer].c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!roots[layer]) return fail_errno("open", dirs[layer]);
    }
    return {};
  }

  Status make_dir(size_t layer, const std::string& path) {
    std::lock_guard lock(dir_mu);
    TRY(open_root(layer));
    if (made[layer].count(path)) return {};
    TRY(image::materialize_estargz_dir(*indexes[layer], roots[layer].get(), path));
    made[layer].insert(path);
    return {};
  }

  // One entry of a directory not made yet, for a lookup (image/estargz_skeleton.h).
  Status make_entry(size_t layer, const std::string& dir, const std::string& name) {
    std::lock_guard lock(dir_mu);
    TRY(open_root(layer));
    if (made[layer].count(dir)) return {};
    return image::materialize_estargz_entry(*indexes[layer], roots[layer].get(), dir, name);
  }

  Status fill_file(size_t layer, const std::string& path) {
    std::string full = fs::join(dirs[layer], path);
    std::lock_guard lock(mu);
    if (!is_marked(full)) return {};  // filled meanwhile
    const image::EstargzIndex& index = *indexes[layer];
    const auto* entry = index.lookup(path);
    if (entry == nullptr) return fail(ErrorKind::kNotFound, "not in the layer's TOC");
    std::string data_path = entry->type == "hardlink" ? entry->link_name : path;
    if (!connection) {
      connection =
          TRY(registry::Connection::open(registry, repository, registry::Access::kPull, options));
    }
    UniqueFd fd(::open(full.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return fail_errno("open", full);
    struct stat before {};
    if (::fstat(fd.get(), &before) < 0) return fail_errno("fstat", full);
    for (const auto& chunk : index.chunks(data_path)) {
      std::string data = TRY(registry::fetch_estargz_chunk(connection->session(), blobs[layer],
                                                           chunk, nullptr, keepers[layer]->sink()));
      TRY(sys::pwrite_all(fd.get(), data, chunk.file_offset, full));
    }
    // The image's times, not the fetch's.
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    if (::futimens(fd.get(), times) < 0) return fail_errno("futimens", full);
    if (::fremovexattr(fd.get(), std::string(image::kLazyXattr).c_str()) < 0) {
      return fail_errno("fremovexattr", full);
    }
    return {};
  }

  // Starts the whole layers' fetch and the prefetch (containers/lazy_prefetch.h), once the mount
  // serves.
  void start_prefetch() {
    std::call_once(prefetch_once, [this] {
      for (const auto& whole : wholes) {
        if (!whole) continue;
        std::thread([whole] {
          if (auto st = whole->ensure(); !st) log::warn("lazy: " + st.error().message());
        }).detach();
      }
      std::vector<std::pair<size_t, std::string>> files;
      for (size_t layer = 0; layer < indexes.size(); ++layer) {
        if (!indexes[layer]) continue;
        for (const auto& path : indexes[layer]->prefetch()) files.emplace_back(layer, path);
      }
      if (files.empty()) return;
      log::debug("lazy: prefetching " + std::to_string(files.size()) + " files");
      prefetcher = std::make_unique<LazyPrefetcher>(
          std::move(files), [this](size_t layer, const std::string& path) {
            size_t slash = path.rfind('/');
            auto st = slash == std::string::npos
                          ? make_entry(layer, "", path)
                          : make_entry(layer, path.substr(0, slash), path.substr(slash + 1));
            if (st && is_marked(fs::join(dirs[layer], path))) st = fill_file(layer, path);
            if (!st) log::debug("lazy: prefetch of /" + path + ": " + st.error().message());
          });
    });
  }

  std::once_flag prefetch_once;
  std::unique_ptr<LazyPrefetcher> prefetcher;  // last: stopped before the rest goes
};

}  // namespace

Result<LazyMount> prepare_lazy_mount(const image::Store& store, const std::string& reference,
                                     const registry::ClientOptions& options) {
  auto ref = TRY(image::Reference::parse(reference));
  registry::PullOptions pull;
  static_cast<registry::ClientOptions&>(pull) = options;
  pull.layers = registry::LayerPolicy::kLeaveRemote;
  // The TOCs of the eStargz layers whose blob the store lacks start as soon as the manifest is
  // known, beside the config's fetch and the metadata's writes (fsyncs) into the store.
  std::unique_ptr<TocFetch> early;
  pull.on_manifest = [&](const image::Manifest& manifest) {
    std::vector<size_t> which;
    for (size_t i = 0; i < manifest.layers.size(); ++i) {
      const auto& layer = manifest.layers[i];
      if (layer.annotation(image::estargz::kTocDigestAnnotation).empty()) continue;
      if (!store.has_blob(layer.digest)) which.push_back(i);
    }
    early = std::make_unique<TocFetch>(store, ref, manifest.layers, std::move(which), options);
  };
  TRY_CTX(registry::pull_image(store, ref, pull), "pulling " + reference + " (metadata)");
  log::debug("lazy: manifest and config pulled");
  auto image = TRY(store.resolve(reference));
  return prepare_lazy_mount(store, ref, std::move(image), options, early.get());
}

Result<LazyMount> prepare_lazy_mount(const image::Store& store, const image::Reference& ref,
                                     image::Image image, const registry::ClientOptions& options,
                                     TocFetch* early) {
  std::string reference = ref.str();
  LazyMount out;
  out.image = std::move(image);
  const auto& layers = out.image.manifest.layers;
  const auto& diff_ids = out.image.config.diff_ids;
  if (layers.size() != diff_ids.size()) {
    return fail(ErrorKind::kCorrupt, reference + ": manifest and config disagree on the layers");
  }

  auto filler = std::make_shared<Filler>();
  filler->registry = ref.registry;
  filler->repository = ref.repository;
  filler->options = options;
  filler->options.progress = nullptr;
  // A read waits for its fetch: give up soon (EIO; the next open tries again) rather than after
  // a pull's patient retries. A refused or cut connection fails the open within ~2 s.
  filler->options.retry.max_attempts = 3;
  filler->options.retry.max_delay = std::chrono::milliseconds(1000);
  filler->options.retry.max_retry_after = std::chrono::milliseconds(2000);
  // A registry that accepts and then stalls fails a read in at most ~3 x (10 s + 1 s).
  filler->options.retry.connect_seconds = 5;
  filler->options.retry.stall_seconds = 10;
  // The layers not in the store: eStargz ones by their TOCs, the others whole in the background.
  std::vector<size_t> missing;
  std::vector<bool> whole(layers.size(), false);
  for (size_t i = 0; i < layers.size(); ++i) {
    if (store.has_layer(diff_ids[i])) continue;
    if (layers[i].annotation(image::estargz::kTocDigestAnnotation).empty()) {
      whole[i] = true;
    } else {
      missing.push_back(i);
    }
  }
  // The TOCs: from the fetch started with the manifest where it was (the same manifest: the
  // store's tag could have moved since), the rest now.
  std::vector<size_t> rest;
  if (early != nullptr && early->layers() != layers) early = nullptr;
  for (size_t i : missing) {
    if (early == nullptr || !early->started(i)) rest.push_back(i);
  }
  TocFetch late(store, ref, layers, rest, options);
  std::vector<std::shared_ptr<image::EstargzIndex>> indexes(layers.size());
  for (size_t i : missing) {
    TocFetch& from = late.started(i) ? late : *early;
    indexes[i] = TRY(from.take(i, &out.bytes_fetched));
  }
  std::string lazy_root = store.lazy_dir();
  for (size_t i = 0; i < layers.size(); ++i) {
    std::shared_ptr<image::EstargzIndex> index = indexes[i];
    std::string dir = store.layer_path(diff_ids[i]);
    std::shared_ptr<WholeLayer> whole_layer;
    if (whole[i]) {
      dir = fs::join(lazy_root, std::string(layers[i].digest.hex()));
      TRY(fs::make_dirs(lazy_root));
      TRY(WholeLayer::make_placeholder(dir));
      whole_layer = std::make_shared<WholeLayer>(store, ref.registry, ref.repository,
                                                 filler->options, layers[i], diff_ids[i], dir);
    } else if (index) {
      dir = fs::join(lazy_root, std::string(layers[i].digest.hex()));
      if (!fs::exists(dir)) {
        TRY(fs::make_dirs(lazy_root));
        TRY(image::make_estargz_skeleton(*index, dir));
        log::debug("lazy: root directory made");
      }
    }
    filler->dirs.push_back(dir);
    filler->indexes.push_back(index);
    filler->wholes.push_back(whole_layer);
    filler->blobs.push_back(layers[i].digest);
    filler->keepers.push_back(std::make_unique<BlobBytesKeeper>(store, layers[i]));
  }
  // Top first, as imgfs takes them.
  std::reverse(filler->dirs.begin(), filler->dirs.end());
  std::reverse(filler->indexes.begin(), filler->indexes.end());
  std::reverse(filler->wholes.begin(), filler->wholes.end());
  std::reverse(filler->blobs.begin(), filler->blobs.end());
  std::reverse(filler->keepers.begin(), filler->keepers.end());
  for (size_t i = 0; i < filler->dirs.size(); ++i) {
    out.lowers.push_back(filler->dirs[i]);
    out.lazy.push_back(filler->indexes[i] != nullptr || filler->wholes[i] != nullptr);
  }
  out.fill = [filler](size_t layer, const std::string& path) -> int {
    if (layer >= filler->dirs.size() || !filler->indexes[layer]) return 0;
    if (!is_marked(fs::join(filler->dirs[layer], path))) return 0;
    if (auto st = filler->fill_file(layer, path); !st) {
      log::warn("lazy read of /" + path +
                " failed (EIO; retried at the next open): " + st.error().message());
      return EIO;
    }
    return 0;
  };
  auto materialize = [filler](size_t layer, const std::string& dir) -> int {
    if (layer < filler->wholes.size() && filler->wholes[layer]) {
      // A read that needs a layer fetched whole waits for it (EIO if the fetch fails).
      if (auto st = filler->wholes[layer]->ensure(); !st) {
        log::warn("lazy directory /" + dir +
                  " failed (EIO; retried at the next read): " + st.error().message());
        return EIO;
      }
      return 0;
    }
    if (layer >= filler->dirs.size() || !filler->indexes[layer]) return 0;
    if (auto st = filler->make_dir(layer, dir); !st) {
      log::warn("lazy directory /" + dir + " could not be made (EIO): " + st.error().message());
      return EIO;
    }
    return 0;
  };
  out.materialize_entry = [filler, materialize](size_t layer, const std::string& dir,
                                                const std::string& name) -> int {
    if (layer < filler->wholes.size() && filler->wholes[layer]) return materialize(layer, dir);
    if (layer >= filler->dirs.size() || !filler->indexes[layer]) return 0;
    if (auto st = filler->make_entry(layer, dir, name); !st) {
      log::warn("lazy entry /" + fs::join(dir, name) +
                " could not be made (EIO): " + st.error().message());
      return EIO;
    }
    return 0;
  };
  out.dir_nlink = [filler](size_t layer, const std::string& dir) -> nlink_t {
    if (layer >= filler->indexes.size() || !filler->indexes[layer]) return 0;
    nlink_t n = 2;
    for (const auto* e : filler->indexes[layer]->children(dir)) n += e->type == "dir" ? 1 : 0;
    return n;
  };
  out.materialize = materialize;
  out.ready = [filler] { filler->start_prefetch(); };
  return out;
}

void use_lazy_mount(const LazyMount& lazy, fs::MountOptions& options) {
  options.lowers = lazy.lowers;
  options.lazy = lazy.lazy;
  options.fill_lazy = lazy.fill;
  options.materialize_lazy_dir = lazy.materialize;
  options.materialize_lazy_entry = lazy.materialize_entry;
  options.lazy_dir_nlink = lazy.dir_nlink;
  options.on_ready = lazy.ready;
}

}  // namespace imgbuild::containers
