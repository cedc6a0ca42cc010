#include "builder/copy_op.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>
#include <set>
#include <utility>

#include "base/fs.h"
#include "base/path_clean.h"
#include "base/sys.h"
#include "builder/add_archive.h"
#include "builder/dockerfile/dockerignore.h"
#include "builder/file_copy.h"

namespace imgbuild::builder {
namespace {

bool has_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::string join_parts(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < parts.size(); ++i) {
    if (!out.empty()) out += '/';
    out += parts[i];
  }
  return out;
}

std::string join_rel(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return std::string(a) + "/" + std::string(b);
}

std::string basename_of(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

class Copier {
 public:
  Copier(const SourceTree& tree, const CopyOptions& options, const LayerView& image,
         std::string layer)
      : tree_(tree), options_(options), image_(image), layer_(std::move(layer)) {}

  Status run(const std::vector<SelectedSource>& selected);

 private:
  Result<std::string> resolve_dest(const std::string& path, bool* is_dir) const;
  Status ensure_dir(const std::string& image_path);
  Status copy_entry(const SourceEntry& src, const std::string& dst, bool top,
                    const std::string& rel_in_source);
  Status clear_target(const std::string& real, bool keep_dir);
  Owner owner_of(const struct stat& st) const {
    if (options_.chown) return *options_.chown;
    if (tree_.keeps_owners()) return Owner{st.st_uid, st.st_gid};
    return Owner{0, 0};
  }
  mode_t mode_of(const struct stat& st) const {
    return options_.chmod ? *options_.chmod : (st.st_mode & 07777);
  }
  std::string real(const std::string& image_path) const {
    return image_path.empty() ? layer_ : layer_ + "/" + image_path;
  }

  const SourceTree& tree_;
  const CopyOptions& options_;
  const LayerView& image_;
  std::string layer_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  // --exclude, as BuildKit: .dockerignore's rules (`**`, a match excludes all below, '!').
  dockerfile::IgnoreMatcher excludes_;
};

Result<std::string> Copier::resolve_dest(const std::string& path, bool* is_dir) const {
  auto parts = image_path_parts(path);
  std::string cur;
  *is_dir = parts.empty();
  bool fresh = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string cand = join_rel(cur, parts[i]);
    bool last = i + 1 == parts.size();
    if (fresh) {
      cur = cand;
      continue;
    }
    // What this COPY already created wins over the image.
    struct stat st {};
    if (::lstat(real(cand).c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        cur = cand;
        if (last) *is_dir = true;
        continue;
      }
      if (!last) return fail(ErrorKind::kInvalidArgument, "/" + cand + ": not a directory");
      cur = cand;
      continue;
    }
    auto found = TRY(image_.lookup(cand, true));
    if (!found) {
      fresh = true;
      cur = cand;
      continue;
    }
    if (S_ISDIR(found->st.st_mode)) {
      cur = found->image_path;
      if (last) *is_dir = true;
      continue;
    }
    if (!last) {
      return fail(ErrorKind::kInvalidArgument,
                  "cannot copy to " + path + ": /" + cand + " is not a directory");
    }
    cur = cand;  // a file or a symlink to one: replaced by the copy
  }
  return cur;
}

Status Copier::ensure_dir(const std::string& image_path) {
  return ensure_layer_dir(image_, layer_, image_path, options_.chown);
}

Status Copier::clear_target(const std::string& r, bool keep_dir) {
  struct stat st {};
  if (::lstat(r.c_str(), &st) != 0) return {};
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir) return {};
    return fs::remove_tree(r);
  }
  if (::unlink(r.c_str()) < 0) return fail_errno("unlink", r);
  return {};
}

Status Copier::copy_entry(const SourceEntry& src, const std::string& dst, bool top,
                          const std::string& rel_in_source) {
  if (!rel_in_source.empty() && excludes_.excluded(rel_in_source)) return {};
  auto slash = dst.rfind('/');
  TRY(ensure_dir(slash == std::string::npos ? std::string() : dst.substr(0, slash)));
  std::string r = real(dst);
  const struct stat& st = src.st;
  Owner owner = owner_of(st);
  if (S_ISDIR(st.st_mode)) {
    struct stat existing {};
    bool in_layer = ::lstat(r.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode);
    bool keep_existing = false;
    if (!in_layer) {
      TRY(clear_target(r, false));
      auto found = dst.empty() ? std::optional<LocatedPath>() : TRY(image_.lookup(dst, false));
      if (top && (dst.empty() || (found && S_ISDIR(found->st.st_mode)))) {
        TRY(ensure_dir(dst));  // an existing destination keeps its own metadata
        keep_existing = true;
      } else {
        TRY(sys::mkdir_at(AT_FDCWD, r, 0700));
      }
    } else {
      keep_existing = top;
    }
    for (const auto& name : TRY(tree_.list(src.path))) {
      auto child = TRY(tree_.stat(join_rel(src.path, name), false));
      if (!child) continue;
      TRY(copy_entry(*child, join_rel(dst, name), false, join_rel(rel_in_source, name)));
    }
    if (!keep_existing) TRY(copy_metadata(src.real_path, r, st, owner, mode_of(st)));
    return {};
  }
  TRY(clear_target(r, false));
  if (st.st_nlink > 1 && !S_ISDIR(st.st_mode)) {
    auto key = std::make_pair(st.st_dev, st.st_ino);
    if (auto it = links_.find(key); it != links_.end()) {
      if (::link(it->second.c_str(), r.c_str()) < 0) return fail_errno("link", r);
      return {};
    }
    links_[key] = r;
  }
  if (S_ISREG(st.st_mode)) {
    TRY(copy_file_data(src.real_path, r));
  } else if (S_ISLNK(st.st_mode)) {
    TRY(sys::symlink_at(src.link_target, AT_FDCWD, r));
  } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    if (::mknod(r.c_str(), st.st_mode, st.st_rdev) < 0) return fail_errno("mknod", r);
  } else {
    return {};  // sockets are not copied, as Docker skips them
  }
  return copy_metadata(src.real_path, r, st, owner, mode_of(st));
}

Status Copier::run(const std::vector<SelectedSource>& selected) {
  excludes_ = TRY(dockerfile::IgnoreMatcher::create(options_.excludes, "--exclude"));
  std::string dest = options_.dest;
  if (!dest.starts_with('/')) dest = join_rel(options_.workdir, dest);
  bool slash = options_.dest.ends_with('/') || options_.dest == "." ||
               options_.dest.ends_with("/.") || options_.dest.empty();
  bool dest_is_dir = false;
  std::string resolved = TRY(resolve_dest(dest, &dest_is_dir));
  bool many = selected.size() > 1;
  for (const auto& s : options_.sources) many = many || has_glob(s);
  if (selected.size() > 1 && !slash && !dest_is_dir) {
    return fail(ErrorKind::kInvalidArgument,
                "When using COPY with more than one source file, the destination must be a "
                "directory and end with a /");
  }
  dest_is_dir = dest_is_dir || slash || selected.size() > 1;
  for (const auto& sel : selected) {
    auto src = TRY(tree_.stat(sel.path, true));
    if (!src) {
      return fail(ErrorKind::kNotFound,
                  "\"" + sel.written + "\": not found in " + tree_.describe());
    }
    if (options_.extract_archives && S_ISREG(src->st.st_mode) &&
        looks_like_archive(src->real_path)) {
      TRY(ensure_dir(resolved));
      TRY(extract_archive(src->real_path, real(resolved)));
      continue;
    }
    if (S_ISDIR(src->st.st_mode)) {
      std::string target = options_.parents ? join_rel(resolved, sel.rel_dest) : resolved;
      TRY(copy_entry(*src, target, !options_.parents || sel.rel_dest.empty(), ""));
      continue;
    }
    std::string target = resolved;
    if (dest_is_dir) {
      target = join_rel(resolved, options_.parents ? sel.rel_dest : basename_of(sel.path));
    }
    TRY(copy_entry(*src, target, false, ""));
  }
  (void)many;
  return {};
}

}  // namespace

Status ensure_layer_dir(const LayerView& image, const std::string& layer_dir,
                        const std::string& image_path, std::optional<Owner> created_owner) {
  auto parts = image_path_parts(image_path);
  for (size_t k = 1; k <= parts.size(); ++k) {
    std::string p = join_parts(parts, k);
    std::string r = layer_dir + "/" + p;
    struct stat st {};
    if (::lstat(r.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      if (::unlink(r.c_str()) < 0) return fail_errno("unlink", r);
    }
    auto found = TRY(image.lookup(p, false));
    if (found && S_ISDIR(found->st.st_mode)) {
      // Reproduce the existing directory unchanged, so the layer does not alter it.
      TRY(sys::mkdir_at(AT_FDCWD, r, found->st.st_mode & 07777));
      TRY(copy_metadata(found->real_path, r, found->st, Owner{found->st.st_uid, found->st.st_gid},
                        found->st.st_mode & 07777));
      continue;
    }
    if (found && !S_ISDIR(found->st.st_mode) && k < parts.size()) {
      return fail(ErrorKind::kInvalidArgument, "/" + p + ": not a directory");
    }
    TRY(sys::mkdir_at(AT_FDCWD, r, 0755));
    Owner o = created_owner ? *created_owner : Owner{};
    if (::lchown(r.c_str(), o.uid, o.gid) < 0) return fail_errno("lchown", r);
    if (::chmod(r.c_str(), 0755) < 0) return fail_errno("chmod", r);
  }
  return {};
}

Result<mode_t> parse_chmod(std::string_view text) {
  if (text.empty() || text.size() > 4 || text.find_first_not_of("01234567") != text.npos) {
    return fail(ErrorKind::kInvalidArgument,
                "invalid --chmod value \"" + std::string(text) + "\": expected an octal mode");
  }
  return static_cast<mode_t>(std::stoul(std::string(text), nullptr, 8));
}

Result<std::vector<SelectedSource>> select_sources(const SourceTree& tree,
                                                   const CopyOptions& options) {
  std::vector<SelectedSource> out;
  for (const auto& written : options.sources) {
    std::string raw = written;
    // "../x" must not reach outside the context (BuildKit silently clamps; we refuse).
    if (!clean_path(raw, DotDot::kReject)) {
      return fail(ErrorKind::kInvalidArgument,
                  "forbidden path outside the build context: " + written);
    }
    // --parents keeps the path after a "/./" pivot, or the whole path.
    std::string pivot;
    if (auto p = raw.find("/./"); p != std::string::npos) pivot = raw.substr(0, p);
    auto parts = image_path_parts(raw);
    std::string cleaned = join_parts(parts, parts.size());
    auto pivot_parts = image_path_parts(pivot);
    std::string pivot_clean = join_parts(pivot_parts, pivot_parts.size());
    std::vector<std::string> matches;
    if (has_glob(cleaned)) {
      matches = TRY(expand_pattern(tree, cleaned));
      if (matches.empty()) {
        return fail(ErrorKind::kNotFound,
                    "\"" + written + "\": no source files matched in " + tree.describe());
      }
    } else {
      auto e = TRY(tree.stat(cleaned, true));
      if (!e)
        return fail(ErrorKind::kNotFound, "\"" + written + "\": not found in " + tree.describe());
      matches.push_back(cleaned);
    }
    for (auto& m : matches) {
      std::string rel = m;
      if (!pivot_clean.empty() && rel.starts_with(pivot_clean + "/")) {
        rel = rel.substr(pivot_clean.size() + 1);
      } else if (!pivot_clean.empty() && rel == pivot_clean) {
        rel.clear();
      }
      out.push_back(SelectedSource{.written = written, .path = m, .rel_dest = rel});
    }
  }
  return out;
}

Status copy_into_layer(const SourceTree& tree, const CopyOptions& options, const LayerView& image,
                       const std::string& layer_dir) {
  auto selected = TRY(select_sources(tree, options));
  Copier copier(tree, options, image, layer_dir);
  return copier.run(selected);
}

}  // namespace imgbuild::builder
