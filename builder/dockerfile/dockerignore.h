// .dockerignore: which paths of the build context are left out, with Docker's semantics
// (moby/patternmatcher + the docker CLI's reading rules):
//   - one pattern per line; lines starting with '#' are comments; surrounding blanks trimmed;
//   - a leading '!' makes an exception (re-includes); the last matching pattern wins;
//   - patterns are cleaned like Go's filepath.Clean, and a leading "/" or "./" is removed;
//   - Go filepath.Match syntax (`*`, `?`, `[a-z]`, `[^a]`, `\` escapes) plus `**` for any number
//     of directories;
//   - a pattern matching a directory excludes everything below it (parent-directory matching);
//   - "<Dockerfile name>.dockerignore" beside the Dockerfile takes precedence over the context's
//     .dockerignore;
//   - the Dockerfile and the .dockerignore itself are always sent, even when matched.
//
// Paths given to the matcher are relative to the context root, '/'-separated, without a
// leading "./" or "/" (they are cleaned anyway). A matcher is immutable after creation and safe
// to use from several threads at once. Errors are kParse naming the file and line
// (".dockerignore:3: syntax error in pattern: [a-"), or kIo for an unreadable file, or kLimit
// for the limits of limits.h, checked before the file is read further or compiled:
//   ".dockerignore: file is larger than 1 MiB"
//   ".dockerignore:10001: more than 10000 patterns"
//   ".dockerignore:3: pattern is longer than 4096 bytes"
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "builder/dockerfile/glob_pattern.h"

namespace imgbuild::builder::dockerfile {

class IgnoreMatcher {
 public:
  IgnoreMatcher() = default;  // excludes nothing

  // Patterns as in the file's lines (comments and blanks allowed). `source` labels errors.
  static Result<IgnoreMatcher> create(const std::vector<std::string>& lines,
                                      std::string_view source = ".dockerignore");
  static Result<IgnoreMatcher> parse(std::string_view text,
                                     std::string_view source = ".dockerignore");

  // Docker's decision for one path. Directories matter only for `may_include_below`.
  bool excluded(std::string_view path, bool is_dir = false) const;

  // For an excluded directory: true when an exception pattern could re-include something
  // below it, so the walk must still descend; false means the whole subtree can be skipped.
  bool may_include_below(std::string_view dir) const;

  // Paths that are always sent whatever the patterns say (the Dockerfile, the ignore file).
  void always_include(std::string path);

  bool empty() const { return patterns_.empty(); }
  size_t size() const { return patterns_.size(); }

  struct Pattern {
    std::string text;                // cleaned pattern, without '!'
    bool exclusion = false;          // '!' exception
    std::vector<std::string> parts;  // split on '/'
  };
  const std::vector<Pattern>& patterns() const { return patterns_; }

 private:
  struct Compiled;  // token form of a pattern, built once
  bool matches(size_t index, std::string_view path) const;

  std::vector<Pattern> patterns_;
  std::vector<std::shared_ptr<const Compiled>> compiled_;
  std::vector<std::string> always_;
};

// Loads the ignore file for a build: "<dockerfile>.dockerignore" next to the Dockerfile when it
// exists, else "<context>/.dockerignore", else an empty matcher. `dockerfile` is a path (may be
// outside the context); when it lies inside the context its relative path is always included,
// as is ".dockerignore". `dockerfile` may be empty (stdin).
Result<IgnoreMatcher> load_dockerignore(const std::string& context_dir,
                                        const std::string& dockerfile);

// Go's path.Clean ("a//b/../c" -> "a/c", "" -> ".").
std::string clean_path(std::string_view path);

}  // namespace imgbuild::builder::dockerfile
