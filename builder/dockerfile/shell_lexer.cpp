// Mirrors BuildKit's shell/lex.go state machine: one pass over runes, with processStopOn as the
// recursive core (used for the whole word and for the inside of ${...}).
#include "builder/dockerfile/shell_lexer.h"

#include <unordered_set>

#include "builder/dockerfile/limits.h"
#include "builder/dockerfile/shell_pattern.h"
#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

namespace {

constexpr long kEof = -1;

// Accumulates the split words: unquoted whitespace separates, quoted text never does.
struct Words {
  std::string word;
  std::vector<std::string> words;
  bool in_word = false;

  void add_char(uint32_t ch) {
    if (text::is_space(ch) && in_word) {
      if (!word.empty()) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
    } else if (!text::is_space(ch)) {
      add_raw_char(ch);
    }
  }
  void add_raw_char(uint32_t ch) {
    text::append_rune(word, ch);
    in_word = true;
  }
  void add_string(std::string_view s) {
    size_t pos = 0;
    while (pos < s.size()) {
      // Runs of ASCII other than blanks go in whole: expanded values can be megabytes long.
      size_t run = pos;
      while (run < s.size() && static_cast<unsigned char>(s[run]) < 0x80 &&
             !text::is_ascii_space(s[run]))
        ++run;
      if (run > pos) {
        add_raw_string(s.substr(pos, run - pos));
        pos = run;
        continue;
      }
      size_t w;
      add_char(text::decode_rune(s, pos, &w));
      pos += w;
    }
  }
  void add_raw_string(std::string_view s) {
    word.append(s);
    in_word = true;
  }
  std::vector<std::string> take() {
    if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
      in_word = false;
    }
    return std::move(words);
  }
};

struct Piece {
  std::string result;
  std::vector<std::string> words;
};

class Lexer {
 public:
  Lexer(std::string_view src, const EnvLookup& env, const LexOptions& options, Expansion* out)
      : src_(src), env_(env), opt_(options), raw_escapes_(options.raw_escapes), out_(out) {}

  Result<Piece> run() { return stop_on(kEof, raw_escapes_); }
  uint64_t steps() const { return steps_; }

 private:
  long peek() const {
    if (pos_ >= src_.size()) return kEof;
    size_t w;
    return text::decode_rune(src_, pos_, &w);
  }
  long next() {
    if (pos_ >= src_.size()) return kEof;
    size_t w;
    uint32_t r = text::decode_rune(src_, pos_, &w);
    pos_ += w;
    return r;
  }
  static void put(std::string& s, long ch) { text::append_rune(s, static_cast<uint32_t>(ch)); }
  static std::unexpected<Error> error(std::string message) {
    return fail(ErrorKind::kParse, std::move(message));
  }

  // Limits (limits.h). Every string the lexer builds grows through append() or put() + fits(),
  // so no intermediate result, kept or discarded, passes kMaxWordBytes, and all the copying
  // counts as steps.
  Status charge(uint64_t n) {
    steps_ += n;
    if (steps_ > kMaxWordSteps) return std::unexpected(word_too_costly());
    return {};
  }
  Status append(std::string& to, std::string_view s) {
    TRY(charge(s.size()));
    if (s.size() > kMaxWordBytes - to.size()) return std::unexpected(word_too_large());
    to.append(s);
    return {};
  }
  static Status fits(const std::string& s) {
    if (s.size() > kMaxWordBytes) return std::unexpected(word_too_large());
    return {};
  }
  // A missing closing character is reported as a syntax error, unless a limit stopped the lexer
  // before it could get there.
  static bool at_end_because_of_syntax(long peeked, const Error& e) {
    return peeked == kEof && e.kind() != ErrorKind::kLimit;
  }

  Result<Piece> stop_on(long stop, bool raw_escapes) {
    bool saved = raw_escapes_;
    raw_escapes_ = raw_escapes;
    auto result = stop_on_inner(stop);
    raw_escapes_ = saved;
    return result;
  }

  Result<Piece> stop_on_inner(long stop) {
    std::string result;
    Words words;
    while (peek() != kEof) {
      long ch = peek();
      if (stop != kEof && ch == stop) {
        next();
        return Piece{std::move(result), words.take()};
      }
      if (ch == '$') {
        std::string tmp = TRY(dollar());
        TRY(append(result, tmp));
        words.add_string(tmp);
      } else if (!opt_.skip_process_quotes && (ch == '\'' || ch == '"')) {
        std::string tmp = ch == '\'' ? TRY(single_quote()) : TRY(double_quote());
        TRY(append(result, tmp));
        words.add_raw_string(tmp);
      } else {
        ch = next();
        if (ch == static_cast<unsigned char>(opt_.escape)) {
          if (raw_escapes_) {
            words.add_raw_char(static_cast<uint32_t>(ch));
            put(result, ch);
          }
          ch = next();
          if (ch == kEof) break;  // an escape at the very end is dropped
          words.add_raw_char(static_cast<uint32_t>(ch));
        } else {
          words.add_char(static_cast<uint32_t>(ch));
        }
        put(result, ch);
        TRY(fits(result));
      }
    }
    if (stop != kEof) {
      std::string message = "unexpected end of statement while looking for matching ";
      put(message, stop);
      return error(message);
    }
    return Piece{std::move(result), words.take()};
  }

  Result<std::string> single_quote() {
    // Everything up to the next ' is literal; nothing can be escaped.
    std::string result;
    long ch = next();
    if (opt_.raw_quotes) put(result, ch);
    for (;;) {
      ch = next();
      if (ch == kEof)
        return error("unexpected end of statement while looking for matching single-quote");
      if (ch == '\'') {
        if (opt_.raw_quotes) put(result, ch);
        return result;
      }
      put(result, ch);
      TRY(fits(result));
    }
  }

  Result<std::string> double_quote() {
    // Literal except $ and the escape character, which only escapes " $ and itself.
    std::string result;
    long ch = next();
    if (opt_.raw_quotes) put(result, ch);
    const long escape = static_cast<unsigned char>(opt_.escape);
    for (;;) {
      long p = peek();
      if (p == kEof)
        return error("unexpected end of statement while looking for matching double-quote");
      if (p == '"') {
        ch = next();
        if (opt_.raw_quotes) put(result, ch);
        return result;
      }
      if (p == '$') {
        TRY(append(result, TRY(dollar())));
        continue;
      }
      ch = next();
      if (ch == escape) {
        if (raw_escapes_) put(result, ch);
        long q = peek();
        if (q == kEof) continue;
        if (q == '"' || q == '$' || q == escape) ch = next();
      }
      put(result, ch);
      TRY(fits(result));
    }
  }

  Result<std::optional<std::string>> get_env(const std::string& name) {
    std::optional<std::string> value = env_ ? env_(name) : std::nullopt;
    auto& list = value ? out_->used : out_->unset;
    auto& seen = value ? used_ : unset_;
    if (seen.insert(name).second) list.push_back(name);
    TRY(charge(name.size() + (value ? value->size() : 0)));
    return value;
  }

  static bool is_special_param(long ch) {
    switch (ch) {
      case '@':
      case '*':
      case '#':
      case '?':
      case '-':
      case '$':
      case '!':
      case '0': return true;
      default: return false;
    }
  }

  std::string name() {
    std::string name;
    while (peek() != kEof) {
      long ch = peek();
      if (name.empty() && text::is_digit(static_cast<uint32_t>(ch))) {
        while (peek() != kEof && text::is_digit(static_cast<uint32_t>(peek()))) put(name, next());
        return name;
      }
      if (name.empty() && is_special_param(ch)) {
        put(name, next());
        return name;
      }
      if (!text::is_letter(static_cast<uint32_t>(ch)) &&
          !text::is_digit(static_cast<uint32_t>(ch)) && ch != '_')
        break;
      put(name, next());
    }
    return name;
  }

  Result<std::string> dollar() {
    next();  // '$'
    if (peek() != '{') {
      std::string n = name();
      if (n.empty()) return std::string("$");
      auto value = TRY(get_env(n));
      if (!value && opt_.skip_unset_env) return "$" + n;
      return value.value_or("");
    }
    next();  // '{'
    // Each level below costs a few stack frames: bound the nesting before the stack runs out.
    if (depth_ == kMaxSubstitutionDepth)
      return fail(ErrorKind::kLimit, "substitutions nested more than " +
                                         std::to_string(kMaxSubstitutionDepth) + " levels deep");
    ++depth_;
    auto result = braced();
    --depth_;
    return result;
  }

  // ${...} after the opening brace.
  Result<std::string> braced() {
    long p = peek();
    if (p == kEof) return error("syntax error: missing '}'");
    if (p == '{' || p == '}' || p == ':') return error("syntax error: bad substitution");
    std::string n = name();
    long ch = next();
    if (ch == kEof) return error("syntax error: missing '}'");
    std::string modifier;
    put(modifier, ch);
    bool null_is_unset = false;

    if (ch == '}') {
      auto value = TRY(get_env(n));
      if (!value && opt_.skip_unset_env) return "${" + n + "}";
      return value.value_or("");
    }
    if (ch == ':') {
      null_is_unset = true;
      ch = next();
      if (ch == kEof) return error("syntax error: missing '}'");
      put(modifier, ch);
    }
    if (null_is_unset || ch == '+' || ch == '-' || ch == '?' || ch == '#' || ch == '%') {
      bool raw = ch == '#' || ch == '%';
      auto piece = stop_on('}', raw);
      if (!piece) {
        if (at_end_because_of_syntax(peek(), piece.error()))
          return error("syntax error: missing '}'");
        return std::unexpected(piece.error());
      }
      std::string word = std::move(piece->result);
      auto value = TRY(get_env(n));
      if (opt_.skip_unset_env && !value) return "${" + n + modifier + word + "}";
      bool empty = !value || (null_is_unset && value->empty());
      switch (ch) {
        case '-': return empty ? word : *value;
        case '+': return empty ? std::string() : word;
        case '?':
          if (!value) return error(n + ": " + (word.empty() ? "is not allowed to be unset" : word));
          if (null_is_unset && value->empty())
            return error(n + ": " + (word.empty() ? "is not allowed to be empty" : word));
          return *value;
        case '%':
        case '#': {
          bool greedy = !word.empty() && word[0] == static_cast<char>(ch);
          if (greedy) word.erase(0, 1);
          auto pattern = ShellPattern::compile(word);
          if (!pattern)
            return error("invalid pattern (" + word +
                         ") in substitution: " + pattern.error().message());
          std::string v = value.value_or("");
          return ch == '%' ? pattern->trim_suffix(v, greedy, &steps_)
                           : pattern->trim_prefix(v, greedy, &steps_);
        }
        default: return error("unsupported modifier (" + modifier + ") in substitution");
      }
    }
    if (ch == '/') {
      bool all = peek() == '/';
      if (all) next();
      auto pattern_piece = stop_on('/', true);
      if (!pattern_piece) {
        if (at_end_because_of_syntax(peek(), pattern_piece.error()))
          return error("syntax error: missing '/' in ${}");
        return std::unexpected(pattern_piece.error());
      }
      auto replacement = stop_on('}', true);
      if (!replacement) {
        if (at_end_because_of_syntax(peek(), replacement.error()))
          return error("syntax error: missing '}'");
        return std::unexpected(replacement.error());
      }
      auto value = TRY(get_env(n));
      if (opt_.skip_unset_env && !value)
        return "${" + n + "/" + pattern_piece->result + "/" + replacement->result + "}";
      auto pattern = ShellPattern::compile(pattern_piece->result);
      if (!pattern)
        return error("invalid pattern (" + pattern_piece->result +
                     ") in substitution: " + pattern.error().message());
      return pattern->replace(value.value_or(""), replacement->result, all, &steps_);
    }
    return error("unsupported modifier (" + modifier + ") in substitution");
  }

  std::string_view src_;
  size_t pos_ = 0;
  const EnvLookup& env_;
  const LexOptions& opt_;
  bool raw_escapes_;
  Expansion* out_;
  std::unordered_set<std::string> used_, unset_;  // what out_->used and out_->unset hold
  int depth_ = 0;                                 // ${ currently open
  uint64_t steps_ = 0;
};

// The subject of a limit error: a word that hit a limit is often huge, so only its start.
std::string quote_start(std::string_view text) {
  constexpr size_t kShown = 48;
  if (text.size() <= kShown) return text::go_quote(text);
  size_t end = kShown;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text::go_quote(text.substr(0, end)) + "...";
}

}  // namespace

Result<Expansion> expand(std::string_view text, const EnvLookup& env, const LexOptions& options) {
  Expansion out;
  Lexer lexer(text, env, options, &out);
  auto piece = lexer.run();
  if (!piece) {
    bool limit = piece.error().kind() == ErrorKind::kLimit;
    return fail(piece.error().kind(), "failed to process " +
                                          (limit ? quote_start(text) : text::go_quote(text)) +
                                          ": " + piece.error().message());
  }
  out.word = std::move(piece->result);
  out.words = std::move(piece->words);
  out.steps = lexer.steps();
  return out;
}

Result<std::string> expand_word(std::string_view text, const EnvLookup& env, char escape) {
  LexOptions options;
  options.escape = escape;
  Expansion e = TRY(expand(text, env, options));
  return std::move(e.word);
}

Result<std::vector<std::string>> expand_words(std::string_view text, const EnvLookup& env,
                                              char escape) {
  LexOptions options;
  options.escape = escape;
  Expansion e = TRY(expand(text, env, options));
  return std::move(e.words);
}

EnvLookup env_lookup(const std::vector<std::pair<std::string, std::string>>& vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    for (auto it = vars.rbegin(); it != vars.rend(); ++it)
      if (it->first == name) return it->second;
    return std::nullopt;
  };
}

}  // namespace imgbuild::builder::dockerfile
