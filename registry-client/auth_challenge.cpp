#include "registry-client/auth_challenge.h"

#include <cctype>

namespace imgbuild::registry {
namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/:").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  bool at_end() {
    skip_space();
    return pos_ >= text_.size();
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view token() {
    skip_space();
    size_t start = pos_;
    while (pos_ < text_.size() && is_token_char(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  // Token68 values (base64 with trailing '=') are accepted as plain tokens with '='.
  Result<std::string> value() {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      std::string out;
      while (pos_ < text_.size() && text_[pos_] != '"') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
        out += text_[pos_++];
      }
      if (pos_ >= text_.size()) return error("unterminated quoted string");
      ++pos_;
      return out;
    }
    std::string_view t = token();
    if (t.empty()) return error("expected a value");
    return std::string(t);
  }
  size_t pos() const { return pos_; }
  void set_pos(size_t p) { pos_ = p; }
  std::unexpected<Error> error(std::string_view what) const {
    return fail(ErrorKind::kParse, "WWW-Authenticate \"" + std::string(text_) + "\": " +
                                       std::string(what) + " at offset " + std::to_string(pos_));
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<AuthChallenge>> parse_auth_challenges(std::string_view header) {
  Scanner s(header);
  std::vector<AuthChallenge> out;
  while (!s.at_end()) {
    if (s.consume(',')) continue;
    std::string_view scheme = s.token();
    if (scheme.empty()) return s.error("expected an auth scheme");
    AuthChallenge challenge;
    challenge.scheme = lower(scheme);
    // Parameters follow until a token that is not followed by '=' (the next scheme).
    for (;;) {
      size_t mark = s.pos();
      while (s.consume(',')) {
      }
      if (s.at_end()) break;
      std::string_view name = s.token();
      if (name.empty()) return s.error("expected a parameter name");
      if (!s.consume('=')) {
        s.set_pos(mark);
        break;
      }
      std::string value = TRY(s.value());
      challenge.params[lower(name)] = std::move(value);
    }
    out.push_back(std::move(challenge));
  }
  return out;
}

}  // namespace imgbuild::registry
