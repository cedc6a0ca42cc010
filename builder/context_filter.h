// ContextFilter: decides which paths of a build context exist for the build (.dockerignore).
//
// The engine only needs two questions answered, so it depends on this interface rather than on the
// Dockerfile front end's matcher; builder/dockerignore_filter.h adapts the front end's matcher.
// Paths are relative to the context root, cleaned, '/'-separated, with no leading "./" or "/".
// Implementations must be safe to call from several threads at once (they are read-only).
#pragma once

#include <string_view>

namespace imgbuild::builder {

class ContextFilter {
 public:
  virtual ~ContextFilter() = default;
  // True when the path is excluded from the context.
  virtual bool excluded(std::string_view path) const = 0;
  // True when some path below the excluded directory `dir` could still be re-included by an
  // exception pattern ("!dir/keep"), so the walk must descend into it.
  virtual bool may_include_below(std::string_view dir) const = 0;
};

// Includes everything (no .dockerignore).
class IncludeAll final : public ContextFilter {
 public:
  bool excluded(std::string_view) const override { return false; }
  bool may_include_below(std::string_view) const override { return false; }
};

}  // namespace imgbuild::builder
