// Internal: the shell patterns of ${VAR#p}, ${VAR%p} and ${VAR/p/r}, with BuildKit's rules
// (`*` any run of characters, `?` one character, neither crossing a newline, `\*` `\?` `\\`
// literal, `\}` and `\/` stand for `}` and `/`). Matching is on UTF-8 runes. Thread-safe.
//
// The matchers add their work to *steps (limits.h: bytes decoded and copied, plus every pattern
// state visited per rune) and fail with word_too_costly() once it passes kMaxWordSteps, and
// replace() with word_too_large() before its result passes kMaxWordBytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::builder::dockerfile {

class ShellPattern {
 public:
  // Fails with "invalid escape '\x'" for other escapes.
  static Result<ShellPattern> compile(std::string_view pattern);

  // ${v#p} / ${v##p}: removes the shortest (longest when greedy) matching prefix.
  Result<std::string> trim_prefix(std::string_view value, bool greedy, uint64_t* steps) const;
  // ${v%p} / ${v%%p}: removes the shortest (longest when greedy) matching suffix.
  Result<std::string> trim_suffix(std::string_view value, bool greedy, uint64_t* steps) const;
  // ${v/p/r} and ${v//p/r}: leftmost-longest matches, as Go's regexp ReplaceAllString.
  Result<std::string> replace(std::string_view value, std::string_view replacement, bool all,
                              uint64_t* steps) const;

 private:
  enum class Kind : uint8_t { kLiteral, kAny, kStar };
  struct Token {
    Kind kind;
    uint32_t rune;
  };
  // End (in runes consumed) of the shortest or longest match of `tokens` anchored at rune 0 of
  // the `count` runes rune_at(0..count); -1 when none.
  template <class RuneAt>
  static Result<long> match_end(const std::vector<Token>& tokens, size_t count, RuneAt rune_at,
                                bool longest, uint64_t* steps);

  std::vector<Token> tokens_;
};

}  // namespace imgbuild::builder::dockerfile
