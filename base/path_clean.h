// The one lexical path cleaner. Every place that turns an untrusted or user-written path into
// components goes through it, with an explicit policy for ".." that would climb above the top.
//
// Cleaning is lexical only (no symlinks are looked at): a leading '/' and empty and "."
// components are dropped, and ".." removes the component before it. What happens to a ".." with
// nothing before it is the policy:
//   kReject  fail (kInvalidArgument naming the path): archive members, build-context paths.
//   kClamp   drop it, as the kernel does for ".." at "/": paths inside an image or container root.
//   kKeep    keep it at the front (Go's filepath.Clean for a relative path): .dockerignore.
//   kForbid  fail on any ".." component at all, even one that could be resolved: eStargz TOCs.
// The result never contains "." or empty components, and contains ".." only under kKeep (then
// only at the front). Cleaning a cleaned path gives it back unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild {

enum class DotDot { kReject, kClamp, kKeep, kForbid };

// The cleaned components of path.
Result<std::vector<std::string>> clean_path_parts(std::string_view path, DotDot policy);

// The cleaned components joined with '/', without a leading '/'; "" for the top itself.
Result<std::string> clean_path(std::string_view path, DotDot policy);

// The first n components joined with '/' (all of them when n is larger).
std::string join_path_parts(const std::vector<std::string>& parts, size_t n = SIZE_MAX);

}  // namespace imgbuild
