#include "builder/dockerfile/shell_pattern.h"

#include <algorithm>

#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

namespace {

struct Runes {
  std::vector<uint32_t> runes;
  std::vector<size_t> offsets;  // byte offset of each rune, plus the end
};

Runes decode(std::string_view s) {
  Runes out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t w;
    out.runes.push_back(text::decode_rune(s, pos, &w));
    out.offsets.push_back(pos);
    pos += w;
  }
  out.offsets.push_back(s.size());
  return out;
}

}  // namespace

Result<ShellPattern> ShellPattern::compile(std::string_view pattern) {
  ShellPattern out;
  size_t pos = 0;
  auto next = [&]() -> long {
    if (pos >= pattern.size()) return -1;
    size_t w;
    uint32_t r = text::decode_rune(pattern, pos, &w);
    pos += w;
    return r;
  };
  auto peek = [&]() -> long {
    if (pos >= pattern.size()) return -1;
    size_t w;
    return text::decode_rune(pattern, pos, &w);
  };
  for (long tok = next(); tok != -1; tok = next()) {
    if (tok == '*') {
      out.tokens_.push_back({Kind::kStar, 0});
      continue;
    }
    if (tok == '?') {
      out.tokens_.push_back({Kind::kAny, 0});
      continue;
    }
    if (tok == '\\') {
      long p = peek();
      if (p == '}' || p == '/') continue;  // the escape belonged to ${...}, not the pattern
      tok = next();
      if (tok != '*' && tok != '?' && tok != '\\') {
        std::string message = "invalid escape '\\";
        if (tok == -1)
          text::append_rune(message, text::kRuneError);
        else
          text::append_rune(message, static_cast<uint32_t>(tok));
        return fail(ErrorKind::kParse, message + "'");
      }
    }
    out.tokens_.push_back({Kind::kLiteral, static_cast<uint32_t>(tok)});
  }
  return out;
}

long ShellPattern::match_end(const std::vector<Token>& tokens, const std::vector<uint32_t>& runes,
                             size_t start, bool longest) {
  // NFA simulation: state i = "tokens[0..i) matched". A star may match nothing (epsilon to i+1)
  // or any rune but newline (stay at i).
  size_t n = tokens.size();
  std::vector<char> current(n + 1, 0), next(n + 1, 0);
  auto close = [&](std::vector<char>& set) {
    for (size_t i = 0; i < n; ++i)
      if (set[i] && tokens[i].kind == Kind::kStar) set[i + 1] = 1;
  };
  current[0] = 1;
  close(current);
  long found = current[n] ? 0 : -1;
  if (found == 0 && !longest) return 0;
  for (size_t k = start; k < runes.size(); ++k) {
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    uint32_t r = runes[k];
    for (size_t i = 0; i < n; ++i) {
      if (!current[i]) continue;
      const Token& t = tokens[i];
      switch (t.kind) {
        case Kind::kStar:
          if (r != '\n') next[i] = 1, any = true;
          break;
        case Kind::kAny:
          if (r != '\n') next[i + 1] = 1, any = true;
          break;
        case Kind::kLiteral:
          if (r == t.rune) next[i + 1] = 1, any = true;
          break;
      }
    }
    if (!any) break;
    close(next);
    current.swap(next);
    if (current[n]) {
      found = static_cast<long>(k - start + 1);
      if (!longest) return found;
    }
  }
  return found;
}

std::string ShellPattern::trim_prefix(std::string_view value, bool greedy) const {
  Runes r = decode(value);
  long end = match_end(tokens_, r.runes, 0, greedy);
  if (end < 0) return std::string(value);
  return std::string(value.substr(r.offsets[static_cast<size_t>(end)]));
}

std::string ShellPattern::trim_suffix(std::string_view value, bool greedy) const {
  Runes r = decode(value);
  std::vector<uint32_t> reversed(r.runes.rbegin(), r.runes.rend());
  std::vector<Token> tokens(tokens_.rbegin(), tokens_.rend());
  long len = match_end(tokens, reversed, 0, greedy);
  if (len < 0) return std::string(value);
  size_t keep = r.runes.size() - static_cast<size_t>(len);
  return std::string(value.substr(0, r.offsets[keep]));
}

std::string ShellPattern::replace(std::string_view value, std::string_view replacement,
                                  bool all) const {
  Runes r = decode(value);
  size_t count = r.runes.size();
  // Leftmost-longest match starting at or after rune `from`, in one pass: every NFA state
  // remembers the smallest start that reaches it (a Pike VM), so the search is linear.
  const size_t n = tokens_.size();
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> cur(n + 1), next(n + 1);
  auto find = [&](size_t from, size_t* start, size_t* end) {
    std::fill(cur.begin(), cur.end(), kNone);
    size_t best_start = kNone, best_end = 0;
    for (size_t pos = from;; ++pos) {
      if (best_start == kNone && cur[0] == kNone) cur[0] = pos;
      for (size_t i = 0; i < n; ++i)
        if (cur[i] != kNone && tokens_[i].kind == Kind::kStar)
          cur[i + 1] = std::min(cur[i + 1], cur[i]);
      if (cur[n] != kNone && (cur[n] < best_start || (cur[n] == best_start && pos > best_end)))
        best_start = cur[n], best_end = pos;
      if (pos == count) break;
      std::fill(next.begin(), next.end(), kNone);
      bool alive = false;
      uint32_t rune = r.runes[pos];
      for (size_t i = 0; i < n; ++i) {
        size_t st = cur[i];
        if (st == kNone || (best_start != kNone && st > best_start)) continue;
        const Token& t = tokens_[i];
        size_t to = kNone;
        if (t.kind == Kind::kStar && rune != '\n') to = i;
        if (t.kind == Kind::kAny && rune != '\n') to = i + 1;
        if (t.kind == Kind::kLiteral && rune == t.rune) to = i + 1;
        if (to != kNone) next[to] = std::min(next[to], st), alive = true;
      }
      cur.swap(next);
      if (!alive && best_start != kNone) break;
    }
    if (best_start == kNone) return false;
    *start = best_start;
    *end = best_end;
    return true;
  };
  std::string out;
  size_t last_end = 0;  // in runes
  size_t search = 0;
  bool first = true;
  while (search <= count) {
    size_t s, e;
    if (!find(search, &s, &e)) break;
    out.append(value.substr(r.offsets[last_end], r.offsets[s] - r.offsets[last_end]));
    // Go skips an empty match right after the previous match.
    if (e > last_end || s == 0 || first) out.append(replacement);
    first = false;
    last_end = e;
    search = e > search ? e : search + 1;
    if (!all) break;
  }
  out.append(value.substr(r.offsets[std::min(last_end, count)]));
  return out;
}

}  // namespace imgbuild::builder::dockerfile
