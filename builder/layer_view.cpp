#include "builder/layer_view.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/path_clean.h"

namespace imgbuild::builder {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

std::string join_parts(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < parts.size(); ++i) {
    if (!out.empty()) out += '/';
    out += parts[i];
  }
  return out;
}

bool lexists(const std::string& path, struct stat* st) { return ::lstat(path.c_str(), st) == 0; }

}  // namespace

std::vector<std::string> image_path_parts(std::string_view path) {
  return clean_path_parts(path, DotDot::kClamp).value();  // kClamp never fails
}

std::optional<LocatedPath> LayerView::lookup_clean(const std::vector<std::string>& parts) const {
  for (const auto& layer : layers_) {
    // Is a prefix of the path hidden or shadowed in this layer?
    for (size_t k = 0; k < parts.size(); ++k) {
      std::string dir = fs::join(layer, join_parts(parts, k));
      std::string prefix = fs::join(dir, parts[k]);
      struct stat st {};
      if (!lexists(prefix, &st)) {
        // A whiteout hides the name in lower layers; an entry of this layer would win over it.
        if (lexists(fs::join(dir, std::string(kWhiteoutPrefix) + parts[k]), &st)) {
          return std::nullopt;
        }
        continue;
      }
      if (k + 1 < parts.size()) {
        if (!S_ISDIR(st.st_mode)) return std::nullopt;  // a file shadows the lower directory
        if (lexists(fs::join(prefix, kOpaque), &st)) {
          // Opaque: this layer decides everything below.
          std::string full = fs::join(layer, join_parts(parts, parts.size()));
          struct stat fst {};
          if (!lexists(full, &fst)) return std::nullopt;
          return LocatedPath{join_parts(parts, parts.size()), full, fst};
        }
      }
    }
    std::string full = parts.empty() ? layer : fs::join(layer, join_parts(parts, parts.size()));
    struct stat st {};
    if (lexists(full, &st)) return LocatedPath{join_parts(parts, parts.size()), full, st};
  }
  return std::nullopt;
}

Result<std::optional<LocatedPath>> LayerView::lookup(std::string_view path,
                                                     bool follow_final) const {
  std::vector<std::string> pending = image_path_parts(path);
  std::vector<std::string> resolved;
  int hops = 0;
  size_t i = 0;
  while (i < pending.size()) {
    resolved.push_back(pending[i]);
    bool last = i + 1 == pending.size();
    auto found = lookup_clean(resolved);
    if (!found) return std::optional<LocatedPath>();
    if (S_ISLNK(found->st.st_mode) && (!last || follow_final)) {
      if (++hops > 40) {
        return fail(ErrorKind::kInvalidArgument,
                    "too many levels of symbolic links resolving /" + std::string(path));
      }
      char buf[4096];
      ssize_t n = ::readlink(found->real_path.c_str(), buf, sizeof(buf));
      if (n < 0) return fail_errno("readlink", found->real_path);
      std::string target(buf, static_cast<size_t>(n));
      resolved.pop_back();
      std::string base =
          target.starts_with('/') ? std::string() : join_parts(resolved, resolved.size());
      std::string rest = join_parts(
          std::vector<std::string>(pending.begin() + static_cast<long>(i) + 1, pending.end()),
          pending.size());
      std::string combined = base + "/" + target + "/" + rest;
      pending = image_path_parts(combined);
      resolved.clear();
      i = 0;
      continue;
    }
    ++i;
  }
  auto found = lookup_clean(resolved);
  if (!found) return std::optional<LocatedPath>();
  return found;
}

Result<std::vector<std::string>> LayerView::list(std::string_view path) const {
  auto dir = TRY(lookup(path, true));
  if (!dir || !S_ISDIR(dir->st.st_mode)) {
    return fail(ErrorKind::kNotFound, "/" + std::string(path) + ": not a directory in the image");
  }
  std::vector<std::string> parts = image_path_parts(dir->image_path);
  std::set<std::string> names;
  std::set<std::string> hidden;
  for (const auto& layer : layers_) {
    // Stop at the first layer where the directory is hidden or not a directory.
    std::string real = parts.empty() ? layer : fs::join(layer, join_parts(parts, parts.size()));
    bool stop_here = false;
    for (size_t k = 0; k < parts.size(); ++k) {
      struct stat st {};
      std::string d = fs::join(layer, join_parts(parts, k));
      if (lexists(fs::join(d, std::string(kWhiteoutPrefix) + parts[k]), &st)) stop_here = true;
      if (lexists(fs::join(d, parts[k]), &st) && !S_ISDIR(st.st_mode)) stop_here = true;
    }
    if (stop_here) break;
    struct stat st {};
    if (!lexists(real, &st) || !S_ISDIR(st.st_mode)) continue;
    bool opaque = false;
    std::vector<std::string> here;
    for (std::string& name : TRY(fs::list_dir(real, fs::MissingDir::kIsError))) {
      if (name == kOpaque) {
        opaque = true;
      } else if (name.starts_with(kWhiteoutPrefix)) {
        hidden.insert(name.substr(kWhiteoutPrefix.size()));
      } else {
        here.push_back(name);
      }
    }
    for (auto& n : here) {
      if (!hidden.contains(n)) names.insert(n);
    }
    // Names present here hide lower entries of the same name only by being listed already.
    if (opaque) break;
    // An entry in an upper layer that is not a directory must also stop lower listings below it,
    // but that is about deeper paths; names merge fine.
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<std::optional<std::string>> LayerView::read_file(std::string_view path) const {
  auto found = TRY(lookup(path, true));
  if (!found || !S_ISREG(found->st.st_mode)) return std::optional<std::string>();
  return std::optional<std::string>(TRY(fs::read_file(found->real_path)));
}

}  // namespace imgbuild::builder
