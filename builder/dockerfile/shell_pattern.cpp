#include "builder/dockerfile/shell_pattern.h"

#include <algorithm>

#include "builder/dockerfile/limits.h"
#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

namespace {

// A value as runes. An ASCII value (the usual case, and what a hostile Dockerfile builds
// megabytes of) is read in place; others are decoded once, U+FFFD for each invalid byte.
class RuneView {
 public:
  explicit RuneView(std::string_view s) : s_(s) {
    ascii_ = std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
    if (ascii_) return;
    runes_.reserve(s.size());
    offsets_.reserve(s.size() + 1);
    size_t pos = 0;
    while (pos < s.size()) {
      size_t w;
      runes_.push_back(text::decode_rune(s, pos, &w));
      offsets_.push_back(pos);
      pos += w;
    }
    offsets_.push_back(s.size());
  }
  size_t size() const { return ascii_ ? s_.size() : runes_.size(); }
  uint32_t operator[](size_t i) const {
    return ascii_ ? static_cast<unsigned char>(s_[i]) : runes_[i];
  }
  // Byte offset of rune i; offset(size()) is the end.
  size_t offset(size_t i) const { return ascii_ ? i : offsets_[i]; }
  // What building the view cost, in steps.
  uint64_t cost() const { return ascii_ ? s_.size() : 8 * s_.size(); }

 private:
  std::string_view s_;
  bool ascii_ = true;
  std::vector<uint32_t> runes_;
  std::vector<size_t> offsets_;
};

Status charge(uint64_t* steps, uint64_t n) {
  *steps += n;
  if (*steps > kMaxWordSteps) return std::unexpected(word_too_costly());
  return {};
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

template <class RuneAt>
Result<long> ShellPattern::match_end(const std::vector<Token>& tokens, size_t count, RuneAt rune_at,
                                     bool longest, uint64_t* steps) {
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
  for (size_t k = 0; k < count; ++k) {
    TRY(charge(steps, kStepsPerMatchState * (n + 1)));
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    uint32_t r = rune_at(k);
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
      found = static_cast<long>(k + 1);
      if (!longest) return found;
    }
  }
  return found;
}

Result<std::string> ShellPattern::trim_prefix(std::string_view value, bool greedy,
                                              uint64_t* steps) const {
  TRY(charge(steps, value.size()));
  RuneView r(value);
  TRY(charge(steps, r.cost()));
  long end = TRY(match_end(
      tokens_, r.size(), [&](size_t k) { return r[k]; }, greedy, steps));
  if (end < 0) return std::string(value);
  return std::string(value.substr(r.offset(static_cast<size_t>(end))));
}

Result<std::string> ShellPattern::trim_suffix(std::string_view value, bool greedy,
                                              uint64_t* steps) const {
  TRY(charge(steps, value.size()));
  RuneView r(value);
  TRY(charge(steps, r.cost()));
  std::vector<Token> tokens(tokens_.rbegin(), tokens_.rend());
  size_t count = r.size();
  long len = TRY(match_end(
      tokens, count, [&](size_t k) { return r[count - 1 - k]; }, greedy, steps));
  if (len < 0) return std::string(value);
  return std::string(value.substr(0, r.offset(count - static_cast<size_t>(len))));
}

Result<std::string> ShellPattern::replace(std::string_view value, std::string_view replacement,
                                          bool all, uint64_t* steps) const {
  TRY(charge(steps, value.size()));
  RuneView r(value);
  TRY(charge(steps, r.cost()));
  size_t count = r.size();
  // Leftmost-longest match starting at or after rune `from`, in one pass: every NFA state
  // remembers the smallest start that reaches it (a Pike VM), so the search is linear.
  const size_t n = tokens_.size();
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> cur(n + 1), next(n + 1);
  auto find = [&](size_t from, size_t* start, size_t* end) -> Result<bool> {
    // A search costs more than its states: ${v//x/} searches once per rune of v.
    TRY(charge(steps, 2 * kStepsPerMatchState));
    std::fill(cur.begin(), cur.end(), kNone);
    size_t best_start = kNone, best_end = 0;
    for (size_t pos = from;; ++pos) {
      TRY(charge(steps, kStepsPerMatchState * (n + 1)));
      if (best_start == kNone && cur[0] == kNone) cur[0] = pos;
      for (size_t i = 0; i < n; ++i)
        if (cur[i] != kNone && tokens_[i].kind == Kind::kStar)
          cur[i + 1] = std::min(cur[i + 1], cur[i]);
      if (cur[n] != kNone && (cur[n] < best_start || (cur[n] == best_start && pos > best_end)))
        best_start = cur[n], best_end = pos;
      if (pos == count) break;
      std::fill(next.begin(), next.end(), kNone);
      bool alive = false;
      uint32_t rune = r[pos];
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
  auto append = [&](std::string_view s) -> Status {
    TRY(charge(steps, s.size()));
    if (s.size() > kMaxWordBytes - out.size()) return std::unexpected(word_too_large());
    out.append(s);
    return {};
  };
  size_t last_end = 0;  // in runes
  size_t search = 0;
  bool first = true;
  while (search <= count) {
    size_t s, e;
    if (!TRY(find(search, &s, &e))) break;
    TRY(append(value.substr(r.offset(last_end), r.offset(s) - r.offset(last_end))));
    // Go skips an empty match right after the previous match.
    if (e > last_end || s == 0 || first) TRY(append(replacement));
    first = false;
    last_end = e;
    search = e > search ? e : search + 1;
    if (!all) break;
  }
  TRY(append(value.substr(r.offset(std::min(last_end, count)))));
  return out;
}

}  // namespace imgbuild::builder::dockerfile
