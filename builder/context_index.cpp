#include "builder/context_index.h"

#include <fcntl.h>

#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/sha256.h"
#include "base/sys.h"

namespace imgbuild::builder {
namespace {

constexpr std::string_view kHeader = "imgbuild-context-index 1\n";

int64_t ns_of(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

Result<std::string> hash_file_contents(const std::string& path) {
  UniqueFd fd = TRY(sys::open(path, O_RDONLY | O_NOFOLLOW));
  Sha256 hasher;
  std::vector<char> buf(1 << 20);
  while (true) {
    size_t n = TRY(sys::read_some(fd.get(), buf, path));
    if (n == 0) break;
    hasher.update(buf.data(), n);
  }
  return hasher.finish_hex();
}

ContextIndex ContextIndex::load(std::string file) {
  ContextIndex index;
  index.file_ = std::move(file);
  if (index.file_.empty()) return index;
  auto data = fs::read_file(index.file_);
  if (!data || data->rfind(kHeader, 0) != 0) return index;
  std::string_view rest = std::string_view(*data).substr(kHeader.size());
  auto field = [&rest](std::string_view& out) {
    size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return false;
    out = rest.substr(0, nul);
    rest.remove_prefix(nul + 1);
    return true;
  };
  while (!rest.empty()) {
    std::string_view f[6];
    bool ok = true;
    for (auto& v : f) ok = ok && field(v);
    if (!ok) break;
    Record r;
    try {
      r.ino = std::stoull(std::string(f[1]));
      r.size = std::stoull(std::string(f[2]));
      r.mtime_ns = std::stoll(std::string(f[3]));
      r.ctime_ns = std::stoll(std::string(f[4]));
    } catch (...) {
      index.records_.clear();  // a corrupt index is only a cold cache
      return index;
    }
    r.hash = std::string(f[5]);
    index.records_[std::string(f[0])] = std::move(r);
  }
  return index;
}

Result<std::string> ContextIndex::file_hash(const std::string& rel_path,
                                            const std::string& abs_path, const struct stat& st) {
  auto it = records_.find(rel_path);
  if (it != records_.end()) {
    Record& r = it->second;
    if (r.ino == st.st_ino && r.size == static_cast<uint64_t>(st.st_size) &&
        r.mtime_ns == ns_of(st.st_mtim) && r.ctime_ns == ns_of(st.st_ctim)) {
      r.used = true;
      return r.hash;
    }
  }
  std::string hash = TRY(hash_file_contents(abs_path));
  ++files_read_;
  Record r{.ino = st.st_ino,
           .size = static_cast<uint64_t>(st.st_size),
           .mtime_ns = ns_of(st.st_mtim),
           .ctime_ns = ns_of(st.st_ctim),
           .hash = hash,
           .used = true};
  records_[rel_path] = std::move(r);
  dirty_ = true;
  return hash;
}

Status ContextIndex::save() {
  if (file_.empty()) return {};
  bool dropped = false;
  for (const auto& [path, r] : records_) dropped = dropped || !r.used;
  if (!dirty_ && !dropped) return {};
  std::string out(kHeader);
  for (const auto& [path, r] : records_) {
    if (!r.used) continue;
    for (const std::string& v : {path, std::to_string(r.ino), std::to_string(r.size),
                                 std::to_string(r.mtime_ns), std::to_string(r.ctime_ns), r.hash}) {
      out += v;
      out += '\0';
    }
  }
  auto slash = file_.rfind('/');
  if (slash != std::string::npos) TRY(fs::make_dirs(file_.substr(0, slash)));
  TRY(fs::write_file_atomic(file_, out, 0600));
  dirty_ = false;
  return {};
}

}  // namespace imgbuild::builder
