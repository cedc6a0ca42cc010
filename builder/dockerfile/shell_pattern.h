// Internal: the shell patterns of ${VAR#p}, ${VAR%p} and ${VAR/p/r}, with BuildKit's rules
// (`*` any run of characters, `?` one character, neither crossing a newline, `\*` `\?` `\\`
// literal, `\}` and `\/` stand for `}` and `/`). Matching is on UTF-8 runes. Thread-safe.
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
  std::string trim_prefix(std::string_view value, bool greedy) const;
  // ${v%p} / ${v%%p}: removes the shortest (longest when greedy) matching suffix.
  std::string trim_suffix(std::string_view value, bool greedy) const;
  // ${v/p/r} and ${v//p/r}: leftmost-longest matches, as Go's regexp ReplaceAllString.
  std::string replace(std::string_view value, std::string_view replacement, bool all) const;

 private:
  enum class Kind : uint8_t { kLiteral, kAny, kStar };
  struct Token {
    Kind kind;
    uint32_t rune;
  };
  // Ends (in runes consumed) of matches of `tokens` anchored at runes[start]; -1 when none.
  static long match_end(const std::vector<Token>& tokens, const std::vector<uint32_t>& runes,
                        size_t start, bool longest);

  std::vector<Token> tokens_;
};

}  // namespace imgbuild::builder::dockerfile
