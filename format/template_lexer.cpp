#include "format/template_lexer.h"

#include <cctype>
#include <set>

namespace imgbuild::format {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  std::vector<Token> run() {
    while (pos_ < text_.size()) {
      size_t open = text_.find("{{", pos_);
      if (open == std::string_view::npos) {
        emit_text(text_.substr(pos_), pos_);
        pos_ = text_.size();
        break;
      }
      bool trim_left =
          open + 3 < text_.size() && text_[open + 2] == '-' && is_space(text_[open + 3]);
      std::string_view before = text_.substr(pos_, open - pos_);
      if (trim_left) {
        while (!before.empty() && is_space(before.back())) before.remove_suffix(1);
      }
      emit_text(before, pos_);
      pos_ = open + 2 + (trim_left ? 2 : 0);
      if (!inside_action(open)) return tokens_;
    }
    tokens_.push_back(Token{Tok::kEof, "", "", text_.size(), line_at(text_.size())});
    return tokens_;
  }

 private:
  int line_at(size_t pos) const {
    int line = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) line += text_[i] == '\n';
    return line;
  }

  void emit_text(std::string_view text, size_t at) {
    if (pending_trim_) {
      while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
        ++at;
      }
      pending_trim_ = false;
    }
    if (!text.empty()) tokens_.push_back(Token{Tok::kText, std::string(text), "", at, line_at(at)});
  }

  void emit(Tok type, size_t start, std::string value) {
    tokens_.push_back(Token{type, std::move(value), std::string(text_.substr(start, pos_ - start)),
                            start, line_at(start)});
  }

  bool error(const std::string& message) {
    tokens_.push_back(Token{Tok::kError, message, "", pos_, line_at(pos_)});
    return false;
  }

  // True when a right delimiter starts at pos_ (with its trim marker, if any); consumes it.
  bool right_delim() {
    std::string_view rest = text_.substr(pos_);
    if (rest.starts_with("}}")) {
      size_t start = pos_;
      pos_ += 2;
      emit(Tok::kRightDelim, start, "}}");
      return true;
    }
    if (rest.size() >= 4 && is_space(rest[0]) && rest.substr(1).starts_with("-}}")) {
      size_t start = pos_;
      pos_ += 4;
      emit(Tok::kRightDelim, start, "}}");
      pending_trim_ = true;
      return true;
    }
    return false;
  }

  bool inside_action(size_t open) {
    tokens_.push_back(Token{Tok::kLeftDelim, "{{", "{{", open, line_at(open)});
    if (text_.substr(pos_).starts_with("/*")) {
      size_t end = text_.find("*/", pos_ + 2);
      if (end == std::string_view::npos) return error("unclosed comment");
      pos_ = end + 2;
      tokens_.pop_back();
      std::string_view rest = text_.substr(pos_);
      if (rest.starts_with("}}")) {
        pos_ += 2;
      } else if (rest.size() >= 4 && is_space(rest[0]) && rest.substr(1).starts_with("-}}")) {
        pos_ += 4;
        pending_trim_ = true;
      } else {
        return error("comment ends before closing delimiter");
      }
      return true;
    }
    int parens = 0;
    while (true) {
      if (pos_ >= text_.size()) return error("unclosed action");
      if (parens == 0 && right_delim()) return true;
      char c = text_[pos_];
      size_t start = pos_;
      if (is_space(c)) {
        while (pos_ < text_.size() && is_space(text_[pos_])) {
          if (parens == 0 && text_.size() - pos_ >= 4 &&
              text_.substr(pos_ + 1).starts_with("-}}")) {
            break;
          }
          ++pos_;
        }
        if (pos_ > start) emit(Tok::kSpace, start, " ");
        continue;
      }
      if (text_.substr(pos_).starts_with("}}")) {
        if (parens > 0) return error("unclosed left paren");
      }
      if (c == '|') {
        ++pos_;
        emit(Tok::kPipe, start, "|");
      } else if (c == '(') {
        ++pos_;
        ++parens;
        emit(Tok::kLeftParen, start, "(");
      } else if (c == ')') {
        ++pos_;
        if (--parens < 0) return error("unexpected right paren");
        emit(Tok::kRightParen, start, ")");
      } else if (c == ':') {
        if (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '=') return error("expected :=");
        pos_ += 2;
        emit(Tok::kDeclare, start, ":=");
      } else if (c == '=') {
        ++pos_;
        emit(Tok::kAssign, start, "=");
      } else if (c == '"') {
        if (!quoted_string(start)) return false;
      } else if (c == '`') {
        size_t end = text_.find('`', pos_ + 1);
        if (end == std::string_view::npos) return error("unterminated raw quoted string");
        std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
        emit(Tok::kString, start, value);
      } else if (c == '$') {
        ++pos_;
        while (pos_ < text_.size() && is_alnum(text_[pos_])) ++pos_;
        emit(Tok::kVariable, start, std::string(text_.substr(start, pos_ - start)));
      } else if (c == '.') {
        ++pos_;
        if (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
          pos_ = start;
          number(start);
          continue;
        }
        while (pos_ < text_.size() && is_alnum(text_[pos_])) ++pos_;
        if (pos_ == start + 1) {
          emit(Tok::kDot, start, ".");
        } else {
          emit(Tok::kField, start, std::string(text_.substr(start + 1, pos_ - start - 1)));
        }
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 ((c == '-' || c == '+') && pos_ + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))) {
        number(start);
      } else if (is_alnum(c)) {
        while (pos_ < text_.size() && is_alnum(text_[pos_])) ++pos_;
        std::string word(text_.substr(start, pos_ - start));
        static const std::set<std::string> kKeywords = {"if",    "else",    "end",      "range",
                                                        "with",  "define",  "template", "block",
                                                        "break", "continue"};
        if (kKeywords.contains(word)) {
          emit(Tok::kKeyword, start, word);
        } else if (word == "true" || word == "false") {
          emit(Tok::kBool, start, word);
        } else if (word == "nil") {
          emit(Tok::kNil, start, word);
        } else {
          emit(Tok::kIdentifier, start, word);
        }
      } else {
        // A multi-byte UTF-8 character is one character, as Go lexes runes.
        ++pos_;
        while (pos_ < text_.size() && (static_cast<unsigned char>(text_[pos_]) & 0xC0) == 0x80) {
          ++pos_;
        }
        if (static_cast<unsigned char>(c) < 0x20) {
          return error("unrecognized character in action: U+00" +
                       std::string(1, "0123456789ABCDEF"[c >> 4]) +
                       std::string(1, "0123456789ABCDEF"[c & 15]));
        }
        emit(Tok::kChar, start, std::string(text_.substr(start, pos_ - start)));
      }
    }
  }

  void number(size_t start) {
    if (text_[pos_] == '-' || text_[pos_] == '+') ++pos_;
    while (pos_ < text_.size() && (is_alnum(text_[pos_]) || text_[pos_] == '.')) ++pos_;
    emit(Tok::kNumber, start, std::string(text_.substr(start, pos_ - start)));
  }

  bool quoted_string(size_t start) {
    std::string value;
    ++pos_;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') return error("unterminated quoted string");
      char c = text_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (pos_ >= text_.size()) return error("unterminated quoted string");
      char e = text_[pos_++];
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case '\\': value += '\\'; break;
        case '"': value += '"'; break;
        case '\'': value += '\''; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case 'x': {
          if (pos_ + 2 > text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[pos_])) ||
              !std::isxdigit(static_cast<unsigned char>(text_[pos_ + 1]))) {
            return error("invalid syntax");
          }
          value += static_cast<char>(std::stoi(std::string(text_.substr(pos_, 2)), nullptr, 16));
          pos_ += 2;
          break;
        }
        default: return error("invalid syntax");
      }
    }
    emit(Tok::kString, start, value);
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  bool pending_trim_ = false;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> lex_template(std::string_view text) { return Lexer(text).run(); }

}  // namespace imgbuild::format
