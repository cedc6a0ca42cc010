// Adapts the front end's .dockerignore matcher to the ContextFilter the context walk uses.
// Holds the matcher by value; immutable, thread-safe.
#pragma once

#include "builder/context_filter.h"
#include "builder/dockerfile/dockerignore.h"

namespace imgbuild::builder {

class DockerignoreFilter final : public ContextFilter {
 public:
  explicit DockerignoreFilter(dockerfile::IgnoreMatcher matcher) : matcher_(std::move(matcher)) {}
  bool excluded(std::string_view path) const override { return matcher_.excluded(path); }
  bool may_include_below(std::string_view dir) const override {
    return matcher_.may_include_below(dir);
  }

 private:
  dockerfile::IgnoreMatcher matcher_;
};

}  // namespace imgbuild::builder
