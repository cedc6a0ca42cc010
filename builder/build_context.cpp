#include "builder/build_context.h"

#include <fcntl.h>
#include <sys/xattr.h>

#include <algorithm>

#include "base/dir_reader.h"
#include "base/path_clean.h"
#include "base/sha256.h"
#include "base/sys.h"

namespace imgbuild::builder {
namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

std::string join_rel(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return std::string(a) + "/" + std::string(b);
}

char type_char(mode_t mode) {
  if (S_ISREG(mode)) return 'f';
  if (S_ISDIR(mode)) return 'd';
  if (S_ISLNK(mode)) return 'l';
  if (S_ISCHR(mode)) return 'c';
  if (S_ISBLK(mode)) return 'b';
  if (S_ISFIFO(mode)) return 'p';
  return 's';
}

}  // namespace

Result<std::string> clean_relative(std::string_view path) {
  auto cleaned = clean_path(path, DotDot::kReject);
  if (!cleaned) {
    return fail(ErrorKind::kInvalidArgument,
                "path \"" + std::string(path) + "\" is outside of the build context");
  }
  return cleaned;
}

std::string xattr_digest_input(const std::string& abs_path) {
  std::string names(4096, '\0');
  ssize_t n = ::llistxattr(abs_path.c_str(), names.data(), names.size());
  if (n < 0 && errno == ERANGE) {
    n = ::llistxattr(abs_path.c_str(), nullptr, 0);
    if (n > 0) {
      names.resize(static_cast<size_t>(n));
      n = ::llistxattr(abs_path.c_str(), names.data(), names.size());
    }
  }
  if (n <= 0) return {};
  names.resize(static_cast<size_t>(n));
  std::vector<std::string> list;
  for (size_t pos = 0; pos < names.size();) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    std::string value(65536, '\0');
    ssize_t vn = ::lgetxattr(abs_path.c_str(), name.c_str(), value.data(), value.size());
    if (vn < 0) continue;
    value.resize(static_cast<size_t>(vn));
    list.push_back(name + "=" +
                   to_hex(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  }
  std::sort(list.begin(), list.end());
  std::string out;
  for (auto& l : list) out += l + "\n";
  return out;
}

std::string combine_digests(const std::vector<EntryDigest>& digests) {
  Sha256 h;
  for (const auto& d : digests) {
    h.update(d.path);
    h.update(std::string_view("\0", 1));
    h.update(d.digest);
    h.update("\n");
  }
  return h.finish_hex();
}

Result<BuildContext> BuildContext::open(std::string root, const ContextFilter& filter,
                                        std::string index_file) {
  BuildContext ctx;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  ctx.root_ = std::move(root);
  UniqueFd fd = TRY_CTX(sys::open(ctx.root_, O_RDONLY | O_DIRECTORY), "opening build context");
  ContextEntry top;
  top.st = TRY(sys::fstat(fd.get(), ctx.root_));
  ctx.entries_.emplace("", std::move(top));
  TRY(ctx.walk(fd.get(), "", filter));
  ctx.index_ = ContextIndex::load(std::move(index_file));
  return ctx;
}

Status BuildContext::walk(int dirfd, const std::string& rel, const ContextFilter& filter) {
  auto dir = TRY(fs::DirReader::open_fd(dirfd, abs_path(rel)));
  std::vector<std::string> names;
  while (auto e = TRY(dir.next())) names.push_back(std::move(e->name));
  for (const auto& name : names) {
    std::string path = join_rel(rel, name);
    bool excluded = filter.excluded(path);
    struct stat st = TRY(sys::fstat_at(dirfd, name, AT_SYMLINK_NOFOLLOW));
    if (excluded && !(S_ISDIR(st.st_mode) && filter.may_include_below(path))) {
      excluded_.insert(path);
      continue;
    }
    ContextEntry entry{.path = path, .st = st, .link_target = {}};
    if (S_ISLNK(st.st_mode)) entry.link_target = TRY(sys::readlink_at(dirfd, name));
    entries_.emplace(path, std::move(entry));
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub = TRY(sys::open_at(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      TRY(walk(sub.get(), path, filter));
      // An excluded directory stays only as the parent of something re-included below it;
      // otherwise it is excluded as a whole (and what was excluded below it goes with it).
      if (excluded && descendants(path).empty()) {
        entries_.erase(path);
        std::string prefix = path + "/";
        excluded_.erase(excluded_.lower_bound(prefix),
                        std::find_if(excluded_.lower_bound(prefix), excluded_.end(),
                                     [&](const std::string& e) { return !e.starts_with(prefix); }));
        excluded_.insert(path);
      }
    }
  }
  return {};
}

std::string BuildContext::abs_path(std::string_view rel) const {
  if (rel.empty()) return root_;
  return root_ + "/" + std::string(rel);
}

const ContextEntry* BuildContext::find(std::string_view rel) const {
  auto it = entries_.find(rel);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const ContextEntry*> BuildContext::descendants(std::string_view rel) const {
  std::vector<const ContextEntry*> out;
  std::string prefix = rel.empty() ? std::string() : std::string(rel) + "/";
  for (auto it = entries_.lower_bound(prefix); it != entries_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (it->first.empty()) continue;
    out.push_back(&it->second);
  }
  // '/' sorts after some characters ("a-b" < "a/b"), so re-sort by component order.
  std::sort(out.begin(), out.end(), [](const ContextEntry* a, const ContextEntry* b) {
    return split(a->path) < split(b->path);
  });
  return out;
}

std::vector<std::string> BuildContext::children(std::string_view rel) const {
  std::vector<std::string> out;
  std::string prefix = rel.empty() ? std::string() : std::string(rel) + "/";
  for (auto it = entries_.lower_bound(prefix); it != entries_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (it->first.empty()) continue;
    std::string_view rest = std::string_view(it->first).substr(prefix.size());
    if (rest.find('/') == std::string_view::npos) out.emplace_back(rest);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> BuildContext::resolve_symlinks(std::string_view rel) const {
  std::string path(rel);
  for (int hops = 0; hops < 40; ++hops) {
    const ContextEntry* e = find(path);
    if (e == nullptr || !S_ISLNK(e->st.st_mode)) return path;
    std::string target = e->link_target;
    std::string base;
    if (!target.empty() && target[0] != '/') {
      auto slash = path.rfind('/');
      base = slash == std::string::npos ? "" : path.substr(0, slash);
    }
    // Absolute targets are taken relative to the context root, as BuildKit scopes them.
    auto cleaned = clean_relative(join_rel(base, target));
    if (!cleaned) {
      return fail(ErrorKind::kInvalidArgument,
                  "symlink " + path + " -> " + target + " points outside the build context");
    }
    path = *cleaned;
  }
  return fail(ErrorKind::kInvalidArgument,
              "too many levels of symbolic links at " + std::string(rel));
}

Result<std::vector<EntryDigest>> BuildContext::digests(std::string_view rel) {
  const ContextEntry* top = find(rel);
  if (top == nullptr) {
    return fail(ErrorKind::kNotFound, "\"" + std::string(rel) + "\": not found in build context");
  }
  std::vector<const ContextEntry*> list{top};
  if (S_ISDIR(top->st.st_mode)) {
    auto below = descendants(rel);
    list.insert(list.end(), below.begin(), below.end());
  }
  std::vector<EntryDigest> out;
  out.reserve(list.size());
  for (const ContextEntry* e : list) {
    std::string abs = abs_path(e->path);
    std::string record;
    record += type_char(e->st.st_mode);
    record += " " + std::to_string(e->st.st_mode & 07777);
    // No owner: COPY and ADD from the context give root (or --chown) whoever owns the checkout
    // (ContextTree::keeps_owners), so a runner with another user still hits.
    if (S_ISLNK(e->st.st_mode)) record += " -> " + e->link_target;
    if (S_ISREG(e->st.st_mode)) record += " " + TRY(index_.file_hash(e->path, abs, e->st));
    if (S_ISCHR(e->st.st_mode) || S_ISBLK(e->st.st_mode)) {
      record += " dev " + std::to_string(e->st.st_rdev);
    }
    record += "\n" + xattr_digest_input(abs);
    std::string relative = e->path.size() > rel.size()
                               ? e->path.substr(rel.empty() ? 0 : rel.size() + 1)
                               : std::string();
    out.push_back(EntryDigest{.path = std::move(relative), .digest = Sha256::hex_of(record)});
  }
  return out;
}

}  // namespace imgbuild::builder
