// The one glob matcher for COPY/ADD sources, COPY --exclude and .dockerignore: Go's
// filepath.Match syntax on '/'-separated paths, compiled once, matched on runes (UTF-8):
//   `*` any run of characters but '/', `?` one character but '/', `\c` the character c,
//   `[...]` a class of characters and lo-hi ranges, negated by a leading '^' (not '!': in Go,
//   as here, "[!a]" is the class of '!' and 'a'); ']' and '-' must be escaped inside a class.
// A malformed pattern is an error whatever the name (as Go since 1.16): an unclosed or empty
// class, a trailing '\', an unescaped '-' or ']' where a character is expected.
//
// DoubleStar::kAnyDirs adds moby/patternmatcher's rule for .dockerignore and --exclude: `**/`
// matches any number of directories (none included) and a trailing `**` anything at all; a
// range running backwards is an error there (patternmatcher's regexp refuses it, Go's Match
// lets it match nothing). Immutable after compile; safe to share between threads.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::builder::dockerfile {

enum class DoubleStar { kTwoStars, kAnyDirs };

class GlobPattern {
 public:
  // kParse "syntax error in pattern" when malformed.
  static Result<GlobPattern> compile(std::string_view pattern,
                                     DoubleStar double_star = DoubleStar::kTwoStars);
  // Whether the whole of name matches.
  bool matches(std::string_view name) const;

  enum class Tok { kLiteral, kStar, kAny, kAnyPath, kAnyDirs, kClass };
  struct Range {
    uint32_t lo, hi;
  };
  struct Token {
    Tok kind;
    uint32_t rune = 0;
    bool negated = false;
    std::vector<Range> ranges;
  };

 private:
  std::vector<Token> tokens_;
  DoubleStar double_star_ = DoubleStar::kTwoStars;
};

// Go's filepath.Match(pattern, name): GlobPattern::compile(pattern) then matches(name).
Result<bool> glob_match(std::string_view pattern, std::string_view name);

}  // namespace imgbuild::builder::dockerfile
