#include "builder/dockerfile/text_util.h"

#include <algorithm>
#include <vector>

namespace imgbuild::builder::dockerfile::text {

uint32_t decode_rune(std::string_view s, size_t pos, size_t* width) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(pos);
  *width = 1;
  if (c < 0x80) return c;
  size_t need = 0;
  uint32_t rune = 0;
  uint32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1, rune = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2, rune = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3, rune = c & 0x07, min = 0x10000;
  } else {
    return kRuneError;
  }
  if (pos + need >= s.size()) return kRuneError;
  for (size_t i = 1; i <= need; ++i) {
    unsigned char b = byte(pos + i);
    if ((b & 0xC0) != 0x80) return kRuneError;
    rune = (rune << 6) | (b & 0x3F);
  }
  if (rune < min || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) return kRuneError;
  *width = need + 1;
  return rune;
}

void append_rune(std::string& out, uint32_t r) {
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

bool is_space(uint32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return r >= 0x2000 && r <= 0x200A;
  }
}

bool is_letter(uint32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  if (r == 0xAA || r == 0xB5 || r == 0xBA) return true;
  if (r >= 0xC0 && r <= 0x2AF) return r != 0xD7 && r != 0xF7;
  return (r >= 0x370 && r <= 0x3FF && r != 0x37E && r != 0x387) ||        // Greek
         (r >= 0x400 && r <= 0x52F && !(r >= 0x482 && r <= 0x489)) ||     // Cyrillic
         (r >= 0x5D0 && r <= 0x5EA) ||                                    // Hebrew
         (r >= 0x620 && r <= 0x64A) ||                                    // Arabic
         (r >= 0x3041 && r <= 0x3096) || (r >= 0x30A1 && r <= 0x30FA) ||  // Kana
         (r >= 0x3400 && r <= 0x4DBF) || (r >= 0x4E00 && r <= 0x9FFF) ||  // CJK
         (r >= 0xAC00 && r <= 0xD7A3) || (r >= 0x1100 && r <= 0x11FF) ||  // Hangul
         (r >= 0x3131 && r <= 0x318E) || (r >= 0xFF21 && r <= 0xFF3A) ||
         (r >= 0xFF41 && r <= 0xFF5A);
}

bool is_digit(uint32_t r) {
  if (r < 0x80) return r >= '0' && r <= '9';
  return (r >= 0x660 && r <= 0x669) || (r >= 0x6F0 && r <= 0x6F9) || (r >= 0x966 && r <= 0x96F) ||
         (r >= 0xFF10 && r <= 0xFF19);
}

std::string_view trim_left_space(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t w;
    uint32_t r = decode_rune(s, pos, &w);
    if (!is_space(r)) break;
    pos += w;
  }
  return s.substr(pos);
}

std::string_view trim_space(std::string_view s) {
  s = trim_left_space(s);
  // Trailing: walk back over complete runes.
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 4)
      --start;
    size_t w;
    uint32_t r = decode_rune(s, start, &w);
    if (start + w != end) {
      // Not a complete rune ending here: treat the last byte alone.
      start = end - 1;
      r = decode_rune(s, start, &w);
    }
    if (!is_space(r)) break;
    end = start;
  }
  return s.substr(0, end);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && to_lower(a) == to_lower(b);
}

namespace {

bool is_print(uint32_t r) {
  if (r < 0x80) return r >= 0x20 && r != 0x7f;
  if (r <= 0xA0 || r == 0xAD) return false;
  if (r == 0x1680 || r == 0x3000 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF) return false;
  if (r >= 0x2000 && r <= 0x200F) return false;
  if (r >= 0x2028 && r <= 0x202F) return false;
  if (r >= 0x205F && r <= 0x206F) return false;
  if (r >= 0xD800 && r <= 0xF8FF) return false;  // surrogates and private use
  if (r >= 0xFFF0 && r <= 0xFFFB) return false;
  if (r >= 0xE0000) return false;
  return true;
}

}  // namespace

std::string go_quote(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\"";
  size_t pos = 0;
  while (pos < s.size()) {
    size_t w;
    uint32_t r = decode_rune(s, pos, &w);
    if (r == kRuneError && w == 1) {
      unsigned char b = static_cast<unsigned char>(s[pos]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
      pos += 1;
      continue;
    }
    pos += w;
    if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
      continue;
    }
    if (is_print(r)) {
      append_rune(out, r);
      continue;
    }
    switch (r) {
      case '\a': out += "\\a"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\v': out += "\\v"; continue;
      default: break;
    }
    if (r < 0x20 || r == 0x7f) {
      out += "\\x";
      out += kHex[r >> 4];
      out += kHex[r & 0xF];
    } else if (r < 0x10000) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(r >> shift) & 0xF];
    } else {
      out += "\\U";
      for (int shift = 28; shift >= 0; shift -= 4) out += kHex[(r >> shift) & 0xF];
    }
  }
  out += '"';
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(std::string_view value, const char* const* options, size_t count,
                       bool case_sensitive) {
  if (value.empty()) return "";
  std::string v = case_sensitive ? std::string(value) : to_lower(value);
  std::string best;
  size_t best_distance = static_cast<size_t>(-1);
  for (size_t i = 0; i < count; ++i) {
    std::string option = case_sensitive ? std::string(options[i]) : to_lower(options[i]);
    size_t d = edit_distance(v, option);
    if (d < best_distance) best_distance = d, best = option;
  }
  // Close enough to be a typo: at most a third of the word wrong, and not identical.
  if (best_distance == 0 || best_distance > std::max<size_t>(1, v.size() / 3)) return "";
  return " (did you mean " + best + "?)";
}

}  // namespace imgbuild::builder::dockerfile::text
