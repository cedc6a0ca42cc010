// Internal to the Dockerfile front end: the few Unicode and string rules of Go that BuildKit's
// grammar depends on (unicode.IsSpace, IsLetter, IsDigit, UTF-8 decoding with U+FFFD for bad
// bytes, strings.TrimSpace). Stateless, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace imgbuild::builder::dockerfile::text {

constexpr uint32_t kRuneError = 0xFFFD;

// Decodes the rune at `pos`; sets `width` (>= 1). Invalid UTF-8 yields kRuneError, width 1.
uint32_t decode_rune(std::string_view s, size_t pos, size_t* width);
void append_rune(std::string& out, uint32_t rune);

bool is_space(uint32_t rune);   // unicode.IsSpace
bool is_letter(uint32_t rune);  // unicode.IsLetter (ASCII exact; common scripts beyond)
bool is_digit(uint32_t rune);   // unicode.IsDigit (ASCII and a few decimal blocks)
// Byte-wise ASCII whitespace, for the places BuildKit scans bytes.
inline bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view trim_space(std::string_view s);       // strings.TrimSpace
std::string_view trim_left_space(std::string_view s);  // strings.TrimLeftFunc(IsSpace)
std::string to_lower(std::string_view s);              // ASCII only
std::string to_upper(std::string_view s);              // ASCII only
bool iequals(std::string_view a, std::string_view b);  // ASCII case-insensitive

// Go's strconv.Quote (the %q of BuildKit's messages and AST dump). Printability of non-ASCII
// runes follows unicode.IsPrint for the common cases (controls, separators, format characters,
// private use and surrogates are escaped).
std::string go_quote(std::string_view s);

// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);
// BuildKit's suggestion suffix: " (did you mean copy?)" or "" when nothing is close.
std::string suggestion(std::string_view value, const char* const* options, size_t count,
                       bool case_sensitive);

}  // namespace imgbuild::builder::dockerfile::text
