#include "image/store_layout.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <vector>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/mount_info.h"
#include "base/sys.h"
#include "image/file_lock.h"
#include "image/index.h"
#include "image/media_types.h"

namespace imgbuild::image {
namespace {

// Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat; empty when unreadable or when
// the process has exited and is only waiting to be reaped (a zombie: a killed imgbuild whose
// parent has not waited yet owns nothing any more).
std::string process_start_time(long pid) {
  auto text = fs::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return {};
  // comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  size_t close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return {};
  char state = (*text)[close + 2];
  if (state == 'Z' || state == 'X' || state == 'x') return {};
  size_t pos = close + 2;
  for (int field = 3; field < 22; ++field) {
    pos = text->find(' ', pos);
    if (pos == std::string::npos) return {};
    ++pos;
  }
  size_t end = text->find(' ', pos);
  return text->substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

Status detach_dead_mounts(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return {};
  std::string canonical(real);
  std::free(real);
  return mountinfo::detach_all_under(canonical);
}

}  // namespace

StorePaths::StorePaths(const std::string& r)
    : root(r),
      blobs(fs::join(r, "blobs/sha256")),
      layers(fs::join(r, "layers/sha256")),
      tmp(fs::join(r, "tmp")),
      variants(fs::join(r, "variants/sha256")),
      lazy(fs::join(r, "lazy/sha256")),
      cache_records(fs::join(r, "cache/records")),
      containers(fs::join(r, "containers")),
      mounts(fs::join(r, "mounts")),
      index_json(fs::join(r, "index.json")),
      index_lock(fs::join(r, "index.lock")),
      gc_lock(fs::join(r, "gc.lock")) {}

const std::string& staging_owner_tag() {
  static const std::string tag = [] {
    long pid = static_cast<long>(::getpid());
    std::string start = process_start_time(pid);
    return std::to_string(pid) + "." + (start.empty() ? "0" : start);
  }();
  return tag;
}

std::string staging_prefix(std::string_view purpose) {
  return staging_owner_tag() + "-" + std::string(purpose) + "-";
}

bool is_orphaned_staging_name(std::string_view name) {
  size_t dot = name.find('.');
  size_t dash = name.find('-');
  if (dot == std::string_view::npos || dash == std::string_view::npos || dot > dash) return false;
  long pid = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + dot, pid);
  if (ec != std::errc() || p != name.data() + dot || pid <= 0) return false;
  std::string_view start = name.substr(dot + 1, dash - dot - 1);
  if (start.empty()) return false;
  std::string live = process_start_time(pid);
  return live.empty() || live != start;
}

Status init_layout(const StorePaths& paths) {
  for (const auto* dir : {&paths.blobs, &paths.layers, &paths.tmp, &paths.variants,
                          &paths.cache_records, &paths.containers, &paths.mounts}) {
    TRY_CTX(fs::make_dirs(*dir), "creating store at " + paths.root);
  }
  // Lock files exist from the start so that taking a lock never changes the store's contents.
  for (const auto* lock : {&paths.index_lock, &paths.gc_lock}) {
    if (!fs::exists(*lock)) TRY(sys::open(*lock, O_RDWR | O_CREAT, 0644));
  }
  std::string layout = fs::join(paths.root, "oci-layout");
  if (!fs::exists(layout) || !fs::exists(paths.index_json)) {
    FileLock lock = TRY(FileLock::acquire(paths.index_lock, LockMode::kExclusive));
    if (!fs::exists(layout)) {
      TRY(fs::write_file_atomic(layout, "{\"imageLayoutVersion\":\"" +
                                            std::string(media_types::kOciLayoutVersion) + "\"}"));
    }
    if (!fs::exists(paths.index_json)) {
      Index empty;
      empty.media_type = std::string(media_types::kOciIndex);
      TRY(fs::write_file_atomic(paths.index_json, empty.serialize()));
    }
  }
  return {};
}

Result<size_t> clean_leftovers(const StorePaths& paths) {
  size_t removed = 0;
  for (const auto& name : TRY(fs::list_dir(paths.tmp, fs::MissingDir::kIsError))) {
    if (!is_orphaned_staging_name(name)) continue;
    std::string path = fs::join(paths.tmp, name);
    // A build step killed mid-RUN leaves its FUSE mounts here, their server gone (ENOTCONN).
    if (auto st = detach_dead_mounts(path); !st) {
      log::warn("removing crash leftover " + path + ": " + st.error().message());
      continue;
    }
    if (auto st = fs::remove_tree(path); !st) {
      log::warn("removing crash leftover " + path + ": " + st.error().message());
      continue;
    }
    log::debug("removed crash leftover " + path);
    ++removed;
  }
  // write_file_atomic leaves "index.json.tmp-XXXXXX" when a writer dies between create and
  // rename; with the index lock free no writer can be in that window.
  auto lock = FileLock::acquire(paths.index_lock, LockMode::kExclusive, LockWait::kTry);
  if (lock) {
    for (const auto& name : TRY(fs::list_dir(paths.root, fs::MissingDir::kIsError))) {
      if (name.starts_with("index.json.tmp-") || name.starts_with("oci-layout.tmp-")) {
        if (::unlink(fs::join(paths.root, name).c_str()) == 0) ++removed;
      }
    }
  }
  return removed;
}

}  // namespace imgbuild::image
