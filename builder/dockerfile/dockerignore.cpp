// .dockerignore with moby/patternmatcher's semantics; patterns are GlobPatterns with
// DoubleStar::kAnyDirs (glob_pattern.h).
#include "builder/dockerfile/dockerignore.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "base/fs.h"
#include "base/path_clean.h"
#include "builder/dockerfile/limits.h"
#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

namespace {

std::string relative_to(const std::string& base, const std::string& path) {
  std::string b = fs::absolute(base), p = fs::absolute(path);
  if (p.size() > b.size() && p.compare(0, b.size(), b) == 0 && (b == "/" || p[b.size()] == '/'))
    return p.substr(b == "/" ? 1 : b.size() + 1);
  return "";
}

}  // namespace

struct IgnoreMatcher::Compiled {
  GlobPattern glob;
  bool suffix_shortcut = false;  // "**" followed by plain text
  std::string suffix;
};

std::string clean_path(std::string_view path) {
  // filepath.Clean: ".." is dropped at "/" and kept at the front of a relative path.
  bool rooted = !path.empty() && path[0] == '/';
  std::string out =
      (rooted ? "/" : "") + ::imgbuild::clean_path(path, rooted ? DotDot::kClamp : DotDot::kKeep)
                                .value();  // neither policy fails
  return out.empty() ? "." : out;
}

Result<IgnoreMatcher> IgnoreMatcher::create(const std::vector<std::string>& lines,
                                            std::string_view source) {
  IgnoreMatcher m;
  size_t total = 0;
  for (size_t n = 0; n < lines.size(); ++n) {
    total += lines[n].size() + 1;
    if (total > kMaxIgnoreFileBytes + 1)
      return fail(ErrorKind::kLimit, std::string(source) + ": file is larger than " +
                                         format_size(kMaxIgnoreFileBytes));
    std::string_view raw = lines[n];
    if (n == 0 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (!raw.empty() && raw[0] == '#') continue;
    std::string_view pattern = text::trim_space(raw);
    if (pattern.empty()) continue;
    auto where = [&](std::string_view message, ErrorKind kind = ErrorKind::kParse) {
      return fail(kind,
                  std::string(source) + ":" + std::to_string(n + 1) + ": " + std::string(message));
    };
    // Matching costs patterns x pattern length for every path of the context.
    if (m.patterns_.size() == kMaxIgnorePatterns)
      return where("more than " + std::to_string(kMaxIgnorePatterns) + " patterns",
                   ErrorKind::kLimit);
    if (pattern.size() > kMaxIgnorePatternBytes)
      return where("pattern is longer than " + format_size(kMaxIgnorePatternBytes),
                   ErrorKind::kLimit);
    Pattern p;
    if (pattern[0] == '!') {
      p.exclusion = true;
      pattern = text::trim_space(pattern.substr(1));
      if (pattern.empty()) return where("illegal exclusion pattern: \"!\"");
    }
    std::string cleaned = clean_path(pattern);
    if (cleaned.size() > 1 && cleaned[0] == '/') cleaned.erase(0, 1);
    auto glob = GlobPattern::compile(cleaned, DoubleStar::kAnyDirs);
    if (!glob) return where("syntax error in pattern: " + cleaned);
    auto compiled = std::make_shared<Compiled>(std::move(*glob));
    // patternmatcher's "**foo" shortcut: a leading ** followed by plain text is a suffix test.
    if (cleaned.size() >= 2 && cleaned.compare(0, 2, "**") == 0 &&
        cleaned.find_first_of("*?[\\", 2) == std::string::npos) {
      compiled->suffix_shortcut = true;
      compiled->suffix = cleaned.substr(2);
    }
    m.compiled_.push_back(std::move(compiled));
    p.text = cleaned;
    size_t pos = 0;
    while (pos <= cleaned.size()) {
      size_t slash = cleaned.find('/', pos);
      if (slash == std::string::npos) slash = cleaned.size();
      p.parts.push_back(cleaned.substr(pos, slash - pos));
      pos = slash + 1;
    }
    m.patterns_.push_back(std::move(p));
  }
  return m;
}

Result<IgnoreMatcher> IgnoreMatcher::parse(std::string_view text, std::string_view source) {
  if (text.size() > kMaxIgnoreFileBytes)
    return fail(ErrorKind::kLimit,
                std::string(source) + ": file is larger than " + format_size(kMaxIgnoreFileBytes));
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    lines.emplace_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return create(lines, source);
}

void IgnoreMatcher::always_include(std::string path) { always_.push_back(clean_path(path)); }

bool IgnoreMatcher::matches(size_t index, std::string_view path) const {
  const Compiled& c = *compiled_[index];
  if (c.suffix_shortcut) {
    std::string_view suffix = c.suffix;
    if (path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix)
      return true;
    return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
  }
  return c.glob.matches(path);
}

bool IgnoreMatcher::excluded(std::string_view raw_path, bool /*is_dir*/) const {
  if (patterns_.empty()) return false;
  std::string path = clean_path(raw_path);
  while (path.size() > 1 && path[0] == '/') path.erase(0, 1);
  if (path.compare(0, 2, "./") == 0) path.erase(0, 2);
  for (const std::string& a : always_)
    if (a == path) return false;

  // MatchesOrParentMatches: last matching pattern wins; a pattern matching any parent directory
  // matches the path too.
  std::vector<std::string> parents;
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
    parents.push_back(path.substr(0, slash));
  bool matched = false;
  for (size_t k = 0; k < patterns_.size(); ++k) {
    const Pattern& p = patterns_[k];
    if (p.exclusion != matched) continue;
    bool match = matches(k, path);
    for (size_t i = 0; !match && i < parents.size(); ++i) match = matches(k, parents[i]);
    if (match) matched = !p.exclusion;
  }
  return matched;
}

bool IgnoreMatcher::may_include_below(std::string_view raw_dir) const {
  std::string dir = clean_path(raw_dir);
  while (dir.size() > 1 && dir[0] == '/') dir.erase(0, 1);
  std::vector<std::string> dir_parts;
  if (dir != ".") {
    size_t pos = 0;
    while (pos <= dir.size()) {
      size_t slash = dir.find('/', pos);
      if (slash == std::string::npos) slash = dir.size();
      dir_parts.push_back(dir.substr(pos, slash - pos));
      pos = slash + 1;
    }
  }
  for (const Pattern& p : patterns_) {
    if (!p.exclusion) continue;
    // Docker's own rule: the exception lies below the directory ("!dir/keep").
    if ((p.text + "/").compare(0, dir.size() + 1, dir + "/") == 0) return true;
    // Wildcards: the pattern's leading components could match the directory's.
    bool possible = true;
    for (size_t i = 0; i < dir_parts.size() && possible; ++i) {
      if (i >= p.parts.size()) {
        possible = false;
        break;
      }
      if (p.parts[i].find("**") != std::string::npos) return true;
      auto m = glob_match(p.parts[i], dir_parts[i]);
      possible = m && *m;
    }
    if (possible && p.parts.size() > dir_parts.size()) return true;
  }
  return false;
}

Result<IgnoreMatcher> load_dockerignore(const std::string& context_dir,
                                        const std::string& dockerfile) {
  std::string file;
  if (!dockerfile.empty() && fs::exists(dockerfile + ".dockerignore"))
    file = dockerfile + ".dockerignore";
  else if (fs::exists(fs::join(context_dir, ".dockerignore")))
    file = fs::join(context_dir, ".dockerignore");
  IgnoreMatcher matcher;
  if (!file.empty()) {
    std::string text = TRY(read_file_limited(file, kMaxIgnoreFileBytes));
    matcher = TRY(IgnoreMatcher::parse(text, file));
  }
  matcher.always_include(".dockerignore");
  if (!dockerfile.empty()) {
    std::string rel = relative_to(context_dir, dockerfile);
    if (!rel.empty()) {
      matcher.always_include(rel);
      if (!file.empty()) {
        std::string ignore_rel = relative_to(context_dir, file);
        if (!ignore_rel.empty()) matcher.always_include(ignore_rel);
      }
    }
  }
  return matcher;
}

}  // namespace imgbuild::builder::dockerfile
