#include "builder/dockerfile/json_array.h"

#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

namespace {

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool at_end() const { return pos_ >= s_.size(); }

  // Parses any value; `is_string` reports whether it was a string, `str` receives it.
  bool value(int depth, bool* is_string, std::string* str) {
    if (depth > 1000) return false;  // deeper than any Dockerfile needs
    skip_ws();
    if (at_end()) return false;
    char c = s_[pos_];
    *is_string = false;
    if (c == '"') {
      *is_string = true;
      return string(str);
    }
    if (c == '[') return array(depth, nullptr, nullptr);
    if (c == '{') return object(depth);
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    return number();
  }

  // Top-level array: collects strings; *all_strings false when an item is not a string.
  bool array(int depth, std::vector<std::string>* items, bool* all_strings) {
    ++pos_;  // '['
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      bool is_string = false;
      std::string str;
      if (!value(depth + 1, &is_string, &str)) return false;
      if (items) {
        if (is_string)
          items->push_back(std::move(str));
        else
          *all_strings = false;
      }
      skip_ws();
      if (at_end()) return false;
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return false;
    }
  }

 private:
  bool object(int depth) {
    ++pos_;  // '{'
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (at_end() || s_[pos_] != '"') return false;
      std::string key;
      if (!string(&key)) return false;
      skip_ws();
      if (at_end() || s_[pos_] != ':') return false;
      ++pos_;
      bool is_string;
      std::string ignored;
      if (!value(depth + 1, &is_string, &ignored)) return false;
      skip_ws();
      if (at_end()) return false;
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return false;
    }
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool digits() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  bool number() {
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (at_end()) return false;
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
      digits();
    } else {
      return false;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digits()) return false;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return false;
    }
    return true;
  }

  int hex4(size_t at) const {
    if (at + 4 > s_.size()) return -1;
    int v = 0;
    for (size_t i = at; i < at + 4; ++i) {
      char c = s_[i];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return -1;
    }
    return v;
  }

  bool string(std::string* out) {
    ++pos_;  // '"'
    for (;;) {
      if (at_end()) return false;
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return false;
        char e = s_[pos_ + 1];
        pos_ += 2;
        switch (e) {
          case '"': out->push_back('"'); break;
          case '\\': out->push_back('\\'); break;
          case '/': out->push_back('/'); break;
          case 'b': out->push_back('\b'); break;
          case 'f': out->push_back('\f'); break;
          case 'n': out->push_back('\n'); break;
          case 'r': out->push_back('\r'); break;
          case 't': out->push_back('\t'); break;
          case 'u': {
            int v = hex4(pos_);
            if (v < 0) return false;
            pos_ += 4;
            uint32_t rune = static_cast<uint32_t>(v);
            if (rune >= 0xD800 && rune < 0xDC00) {
              // A high surrogate combines with a following \uDC00-\uDFFF; alone it is U+FFFD.
              if (pos_ + 1 < s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
                int low = hex4(pos_ + 2);
                if (low >= 0xDC00 && low < 0xE000) {
                  pos_ += 6;
                  rune = 0x10000 + ((rune - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
                } else {
                  rune = text::kRuneError;
                }
              } else {
                rune = text::kRuneError;
              }
            } else if (rune >= 0xDC00 && rune < 0xE000) {
              rune = text::kRuneError;
            }
            text::append_rune(*out, rune);
            break;
          }
          default: return false;
        }
        continue;
      }
      if (c < 0x80) {
        out->push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      size_t w;
      uint32_t r = text::decode_rune(s_, pos_, &w);
      if (r == text::kRuneError && w == 1)
        text::append_rune(*out, text::kRuneError);
      else
        out->append(s_.substr(pos_, w));
      pos_ += w;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

JsonArrayStatus parse_json_string_array(std::string_view text, std::vector<std::string>* out) {
  if (text.empty() || text[0] != '[') return JsonArrayStatus::kNotJson;
  JsonReader reader(text);
  std::vector<std::string> items;
  bool all_strings = true;
  if (!reader.array(0, &items, &all_strings)) return JsonArrayStatus::kNotJson;
  reader.skip_ws();
  if (!reader.at_end()) return JsonArrayStatus::kNotJson;
  if (!all_strings) return JsonArrayStatus::kNotStrings;
  *out = std::move(items);
  return JsonArrayStatus::kStrings;
}

}  // namespace imgbuild::builder::dockerfile
