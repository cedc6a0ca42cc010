#include "builder/dockerfile/glob_pattern.h"

#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {
namespace {

using Tok = GlobPattern::Tok;
using Token = GlobPattern::Token;

std::vector<uint32_t> to_runes(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t pos = 0, width = 0; pos < s.size(); pos += width) {
    out.push_back(text::decode_rune(s, pos, &width));
  }
  return out;
}

// One class character at p[*i] (Go's getEsc): '-' and ']' only escaped; false when malformed.
bool class_char(const std::vector<uint32_t>& p, size_t* i, uint32_t* out) {
  if (*i >= p.size() || p[*i] == '-' || p[*i] == ']') return false;
  if (p[*i] == '\\' && ++*i >= p.size()) return false;
  *out = p[(*i)++];
  return true;
}

// A bracket expression after its '['; false when malformed.
bool parse_class(const std::vector<uint32_t>& p, size_t* i, DoubleStar mode, Token* tok) {
  tok->kind = Tok::kClass;
  if (*i < p.size() && p[*i] == '^') tok->negated = true, ++*i;
  while (true) {
    if (*i < p.size() && p[*i] == ']' && !tok->ranges.empty()) {
      ++*i;
      return true;
    }
    uint32_t lo = 0, hi = 0;
    if (!class_char(p, i, &lo)) return false;
    hi = lo;
    if (*i < p.size() && p[*i] == '-') {
      ++*i;
      if (!class_char(p, i, &hi)) return false;
    }
    if (hi < lo && mode == DoubleStar::kAnyDirs) return false;
    tok->ranges.push_back({lo, hi});
  }
}

bool class_matches(const Token& t, uint32_t r) {
  bool in = false;
  for (const auto& range : t.ranges) in = in || (r >= range.lo && r <= range.hi);
  return in != t.negated;
}

}  // namespace

Result<GlobPattern> GlobPattern::compile(std::string_view pattern, DoubleStar double_star) {
  GlobPattern out;
  out.double_star_ = double_star;
  std::vector<uint32_t> p = to_runes(pattern);
  auto& toks = out.tokens_;
  auto bad = [] { return fail(ErrorKind::kParse, "syntax error in pattern"); };
  for (size_t i = 0; i < p.size();) {
    uint32_t c = p[i++];
    if (c == '*' && double_star == DoubleStar::kAnyDirs && i < p.size() && p[i] == '*') {
      ++i;
      if (i < p.size() && p[i] == '/') ++i;
      toks.push_back({i >= p.size() ? Tok::kAnyPath : Tok::kAnyDirs});
    } else if (c == '*') {
      toks.push_back({Tok::kStar});
    } else if (c == '?') {
      toks.push_back({Tok::kAny});
    } else if (c == '\\') {
      if (i >= p.size()) return bad();
      toks.push_back({Tok::kLiteral, p[i++]});
    } else if (c == '[') {
      Token tok;
      if (!parse_class(p, &i, double_star, &tok)) return bad();
      toks.push_back(std::move(tok));
    } else {
      toks.push_back({Tok::kLiteral, c});
    }
  }
  return out;
}

bool GlobPattern::matches(std::string_view name) const {
  // patternmatcher compiles to a regexp whose `.` and classes stop at '\n'; Go's Match does not.
  bool regexp = double_star_ == DoubleStar::kAnyDirs;
  std::vector<uint32_t> s = to_runes(name);
  size_t n = tokens_.size(), m = s.size();
  // Memoised backtracking over (token, position): linear in pattern x name, never exponential.
  std::vector<char> memo((n + 1) * (m + 1), 0);  // 0 unknown, 1 false, 2 true
  auto rec = [&](auto&& self, size_t ti, size_t si) -> bool {
    char& slot = memo[ti * (m + 1) + si];
    if (slot) return slot == 2;
    bool result = false;
    if (ti == n) {
      result = si == m;
    } else {
      const Token& t = tokens_[ti];
      switch (t.kind) {
        case Tok::kLiteral: result = si < m && s[si] == t.rune && self(self, ti + 1, si + 1); break;
        case Tok::kAny: result = si < m && s[si] != '/' && self(self, ti + 1, si + 1); break;
        case Tok::kClass:
          result = si < m && !(regexp && s[si] == '\n') && class_matches(t, s[si]) &&
                   self(self, ti + 1, si + 1);
          break;
        case Tok::kStar:
          result = self(self, ti + 1, si) || (si < m && s[si] != '/' && self(self, ti, si + 1));
          break;
        case Tok::kAnyPath:  // .*
          result = self(self, ti + 1, si) || (si < m && s[si] != '\n' && self(self, ti, si + 1));
          break;
        case Tok::kAnyDirs:  // (.*/)?
          result = self(self, ti + 1, si);
          for (size_t k = si; !result && k < m && s[k] != '\n'; ++k)
            if (s[k] == '/') result = self(self, ti + 1, k + 1);
          break;
      }
    }
    slot = result ? 2 : 1;
    return result;
  };
  return rec(rec, 0, 0);
}

Result<bool> glob_match(std::string_view pattern, std::string_view name) {
  return TRY(GlobPattern::compile(pattern)).matches(name);
}

}  // namespace imgbuild::builder::dockerfile
