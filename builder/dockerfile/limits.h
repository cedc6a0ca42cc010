// What a hostile Dockerfile or .dockerignore may make the front end use. Every limit is a named
// constant here and is enforced as an error of kind kLimit naming the file, and the line where
// there is one; nothing grows past a limit before the check. docs/limits.md lists each limit,
// where it is enforced and its exact error text: change both together.
//
// Word expansion counts "steps": one for every byte copied into an intermediate or final result
// and every byte of a variable's value looked up, kStepsPerMatchState for every (rune, pattern
// state) the matchers of ${v#p} ${v%p} ${v/p/r} visit, which costs about as much as copying
// four bytes (measured, sanitizers included). Steps bound time where sizes alone would not (a
// value looked up and discarded, a long pattern matched against a long value).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/error.h"

namespace imgbuild::builder::dockerfile {

// The Dockerfile (parser.h).
inline constexpr size_t kMaxDockerfileBytes = size_t{4} << 20;
inline constexpr size_t kMaxLineBytes = size_t{1} << 20;  // a logical line, continuations joined
inline constexpr size_t kMaxInstructions = 10'000;

// One expanded word (shell_lexer.h).
inline constexpr size_t kMaxWordBytes = size_t{1} << 20;
inline constexpr int kMaxSubstitutionDepth = 64;  // ${a:-${b:-...}} nesting
inline constexpr uint64_t kMaxWordSteps = uint64_t{1} << 24;
inline constexpr uint64_t kStepsPerMatchState = 4;

// All the words one build expands, together (stage_scope.h). The bytes bound the image config
// that ENV, LABEL and the rest produce (ENV values appear twice in it, as Env and in history),
// keeping it under the 8 MiB a registry client accepts as a config; the steps bound the time,
// about 0.1 s at worst (under 1 s with the fuzzers' sanitizers).
inline constexpr uint64_t kMaxBuildExpandedBytes = uint64_t{4} << 20;
inline constexpr uint64_t kMaxBuildSteps = uint64_t{1} << 25;

// .dockerignore (dockerignore.h).
inline constexpr size_t kMaxIgnoreFileBytes = size_t{1} << 20;
inline constexpr size_t kMaxIgnorePatterns = 10'000;
inline constexpr size_t kMaxIgnorePatternBytes = 4096;

// A size as the messages write it: "1 MiB", "16 MiB", "4096 bytes".
std::string format_size(uint64_t bytes);

// The messages of the word limits, without location (the caller adds it).
Error word_too_large();   // "expands to more than 1 MiB"
Error word_too_costly();  // "expansion takes more than 16777216 steps"

// Reads a whole file of at most max_bytes, without reading further when it is larger:
// "<path>: file is larger than 1 MiB" (kLimit). Other errors as fs::read_file.
Result<std::string> read_file_limited(const std::string& path, size_t max_bytes);
// The same for an open fd (stdin: a pipe, a socket), named `name` in errors.
Result<std::string> read_fd_limited(int fd, const std::string& name, size_t max_bytes);

}  // namespace imgbuild::builder::dockerfile
