#include "builder/source_tree.h"

#include <unistd.h>

#include <algorithm>
#include <optional>

#include "builder/dockerfile/glob_pattern.h"

namespace imgbuild::builder {
namespace {

bool has_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::string join_rel(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  return std::string(a) + "/" + std::string(b);
}

}  // namespace

Result<std::vector<std::string>> expand_pattern(const SourceTree& tree, std::string_view pattern) {
  std::vector<std::string> current{""};
  for (const auto& part : image_path_parts(pattern)) {
    std::vector<std::string> next;
    std::optional<dockerfile::GlobPattern> glob;
    if (has_glob(part)) {
      auto compiled = dockerfile::GlobPattern::compile(part);
      if (!compiled) {
        return fail(ErrorKind::kInvalidArgument,
                    "\"" + std::string(pattern) + "\": syntax error in pattern");
      }
      glob = std::move(*compiled);
    }
    for (const auto& dir : current) {
      if (!glob) {
        std::string p = join_rel(dir, part);
        auto e = TRY(tree.stat(p, false));
        if (e) next.push_back(p);
        continue;
      }
      auto d = TRY(tree.stat(dir, true));
      if (!d || !S_ISDIR(d->st.st_mode)) continue;
      for (const auto& child : TRY(tree.list(dir))) {
        if (glob->matches(child)) next.push_back(join_rel(dir, child));
      }
    }
    current = std::move(next);
  }
  std::sort(current.begin(), current.end());
  return current;
}

Result<std::optional<SourceEntry>> ContextTree::stat(std::string_view path,
                                                     bool follow_final) const {
  // Leading components: resolve symlinks inside the context, one component at a time.
  std::string resolved;
  auto parts = image_path_parts(path);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string next = join_rel(resolved, parts[i]);
    bool last = i + 1 == parts.size();
    if (!last || follow_final) next = TRY(context_.resolve_symlinks(next));
    resolved = next;
  }
  const ContextEntry* e = context_.find(resolved);
  if (e == nullptr) return std::optional<SourceEntry>();
  return std::optional<SourceEntry>(SourceEntry{.path = resolved,
                                                .real_path = context_.abs_path(resolved),
                                                .st = e->st,
                                                .link_target = e->link_target});
}

Result<std::vector<std::string>> ContextTree::list(std::string_view dir) const {
  return context_.children(dir);
}

Result<std::optional<SourceEntry>> ImageTree::stat(std::string_view path, bool follow_final) const {
  auto found = TRY(view_.lookup(path, follow_final));
  if (!found) return std::optional<SourceEntry>();
  SourceEntry e{
      .path = found->image_path, .real_path = found->real_path, .st = found->st, .link_target = {}};
  if (S_ISLNK(e.st.st_mode)) {
    char buf[4096];
    ssize_t n = ::readlink(e.real_path.c_str(), buf, sizeof(buf));
    if (n < 0) return fail_errno("readlink", e.real_path);
    e.link_target.assign(buf, static_cast<size_t>(n));
  }
  return std::optional<SourceEntry>(std::move(e));
}

Result<std::vector<std::string>> ImageTree::list(std::string_view dir) const {
  return view_.list(dir);
}

}  // namespace imgbuild::builder
