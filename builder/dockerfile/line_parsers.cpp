// BuildKit's line parsers: how each instruction's argument text becomes the Node's args. The
// quirks are deliberate (the conformance dumps depend on them): flags are scanned byte-wise
// with '\\' as escape whatever the escape directive says; ENV/LABEL's legacy form splits on the
// first run of ASCII blanks of the raw text; JSON falls back to shell form unless the array holds
// something other than strings.
#include "builder/dockerfile/line_parsers.h"

#include "builder/dockerfile/json_array.h"
#include "builder/dockerfile/shell_lexer.h"
#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

namespace {

std::unexpected<Error> error(std::string message) {
  return fail(ErrorKind::kParse, std::move(message));
}

// reWhitespace / tokenWhitespace: [\t\v\f\r ]+
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

std::vector<std::string> split_blank(std::string_view s, size_t max_parts) {
  std::vector<std::string> parts;
  size_t start = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    if (max_parts != 0 && parts.size() + 1 == max_parts) break;
    if (is_blank(s[pos])) {
      size_t end = pos;
      while (pos < s.size() && is_blank(s[pos])) ++pos;
      parts.emplace_back(s.substr(start, end - start));
      start = pos;
      continue;
    }
    ++pos;
  }
  parts.emplace_back(s.substr(start));
  return parts;
}

// parseWords: space-separated words, quotes and escapes kept (stripped later by expansion).
std::vector<std::string> parse_words(std::string_view rest, char escape) {
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  std::vector<std::string> words;
  std::string word;
  uint32_t quote = 0;
  bool blank_ok = false;
  const uint32_t esc = static_cast<unsigned char>(escape);
  size_t width = 0;
  uint32_t ch = 0;
  for (size_t pos = 0; pos <= rest.size(); pos += width) {
    if (pos != rest.size()) ch = text::decode_rune(rest, pos, &width);
    if (phase == kSpaces) {
      if (pos == rest.size()) break;
      if (text::is_space(ch)) continue;
      phase = kWord;
    }
    if (pos == rest.size()) {
      if (blank_ok || !word.empty()) words.push_back(word);
      break;
    }
    if (phase == kWord) {
      if (text::is_space(ch)) {
        phase = kSpaces;
        if (blank_ok || !word.empty()) words.push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
      }
      if (ch == esc) {
        if (pos + width == rest.size()) continue;  // an escape at the end is dropped
        text::append_rune(word, ch);
        pos += width;
        ch = text::decode_rune(rest, pos, &width);
      }
      text::append_rune(word, ch);
      continue;
    }
    // kQuote
    if (ch == quote) phase = kWord;
    if (ch == esc && quote != '\'') {
      if (pos + width == rest.size()) {
        phase = kWord;
        continue;
      }
      pos += width;
      text::append_rune(word, ch);
      ch = text::decode_rune(rest, pos, &width);
    }
    text::append_rune(word, ch);
  }
  return words;
}

Status parse_name_val(std::string_view rest, const char* key, char escape, Node* node) {
  std::vector<std::string> words = parse_words(rest, escape);
  if (words.empty()) return {};
  if (words[0].find('=') == std::string::npos) {
    // Legacy `KEY name value`: name, then everything after the first blanks, verbatim.
    std::vector<std::string> parts = split_blank(rest, 2);
    if (parts.size() < 2) return error(std::string(key) + " must have two arguments");
    node->args = {parts[0], parts[1], ""};
    return {};
  }
  for (const std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos)
      return error("Syntax error - can't find = in " + text::go_quote(word) +
                   ". Must be of the form: name=value");
    node->args.push_back(word.substr(0, eq));
    node->args.push_back(word.substr(eq + 1));
    node->args.push_back("=");
  }
  return {};
}

void parse_strings_whitespace_delimited(std::string_view rest, Node* node) {
  if (rest.empty()) return;
  node->args = split_blank(rest, 0);
}

// Returns false (and leaves node untouched) when `rest` is not a JSON array of strings.
Result<bool> parse_json(std::string_view rest, Node* node) {
  rest = text::trim_left_space(rest);
  if (rest.empty() || rest[0] != '[') return false;
  std::vector<std::string> items;
  switch (parse_json_string_array(rest, &items)) {
    case JsonArrayStatus::kNotJson: return false;
    case JsonArrayStatus::kNotStrings:
      return error("when using JSON array syntax, arrays must be comprised of strings only");
    case JsonArrayStatus::kStrings: break;
  }
  node->args = std::move(items);
  node->json = true;
  return true;
}

Status parse_maybe_json(std::string_view rest, Node* node) {
  if (rest.empty()) return {};
  if (TRY(parse_json(rest, node))) return {};
  node->args = {std::string(rest)};
  return {};
}

Status parse_maybe_json_to_list(std::string_view rest, Node* node) {
  if (TRY(parse_json(rest, node))) return {};
  parse_strings_whitespace_delimited(rest, node);
  return {};
}

Status parse_health_config(std::string_view rest, Node* node) {
  size_t sep = 0;
  while (sep < rest.size() && !text::is_ascii_space(rest[sep])) ++sep;
  size_t next = sep;
  while (next < rest.size() && text::is_ascii_space(rest[next])) ++next;
  if (sep == 0) return {};
  Node command;
  TRY(parse_maybe_json(rest.substr(next), &command));
  node->args.push_back(std::string(rest.substr(0, sep)));
  for (auto& a : command.args) node->args.push_back(std::move(a));
  node->json = command.json;
  return {};
}

// extractBuilderFlags: leading `--words` (quotes and '\\' processed) up to the first word that
// does not start with "--", or up to a lone "--".
std::string_view extract_flags(std::string_view line, std::vector<std::string>* flags) {
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  char ch = 0;
  for (size_t pos = 0; pos <= line.size(); ++pos) {
    if (pos != line.size()) ch = line[pos];
    if (phase == kSpaces) {
      if (pos == line.size()) break;
      if (text::is_ascii_space(ch)) continue;
      if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') return line.substr(pos);
      phase = kWord;
    }
    if (pos == line.size()) {
      if (word != "--" && (blank_ok || !word.empty())) flags->push_back(word);
      break;
    }
    if (phase == kWord) {
      if (text::is_ascii_space(ch)) {
        phase = kSpaces;
        if (word == "--") return line.substr(pos);
        if (blank_ok || !word.empty()) flags->push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
        continue;
      }
      if (ch == '\\') {
        if (pos + 1 == line.size()) continue;
        ch = line[++pos];
      }
      word.push_back(ch);
      continue;
    }
    // kQuote
    if (ch == quote) {
      phase = kWord;
      continue;
    }
    if (ch == '\\') {
      if (pos + 1 == line.size()) {
        phase = kWord;
        continue;
      }
      ch = line[++pos];
    }
    word.push_back(ch);
  }
  return {};
}

Status dispatch_args(const std::string& name, std::string_view rest, char escape, Node* node) {
  if (name == "add" || name == "copy" || name == "volume")
    return parse_maybe_json_to_list(rest, node);
  if (name == "run" || name == "cmd" || name == "entrypoint" || name == "shell")
    return parse_maybe_json(rest, node);
  if (name == "env") return parse_name_val(rest, "ENV", escape, node);
  if (name == "label") return parse_name_val(rest, "LABEL", escape, node);
  if (name == "arg") {
    node->args = parse_words(rest, escape);
    return {};
  }
  if (name == "expose" || name == "from") {
    parse_strings_whitespace_delimited(rest, node);
    return {};
  }
  if (name == "maintainer" || name == "stopsignal" || name == "user" || name == "workdir") {
    if (!rest.empty()) node->args = {std::string(rest)};
    return {};
  }
  if (name == "healthcheck") return parse_health_config(rest, node);
  if (name == "onbuild") {
    if (rest.empty()) return {};
    Node child = TRY(node_from_line(rest, escape));
    node->sub.push_back(std::move(child));
    return {};
  }
  return {};  // unknown instruction: kept without arguments, rejected by the typed layer
}

}  // namespace

Result<Node> node_from_line(std::string_view line, char escape) {
  Node node;
  node.original = std::string(line);
  std::string_view trimmed = text::trim_space(line);
  size_t cut = 0;
  while (cut < trimmed.size() && !is_blank(trimmed[cut])) ++cut;
  node.value = std::string(trimmed.substr(0, cut));
  node.name = text::to_lower(node.value);
  std::string_view args;
  if (cut < trimmed.size()) {
    size_t start = cut;
    while (start < trimmed.size() && is_blank(trimmed[start])) ++start;
    args = extract_flags(trimmed.substr(start), &node.flags);
  }
  TRY(dispatch_args(node.name, text::trim_space(args), escape, &node));
  return node;
}

bool can_contain_heredoc(const Node& node) {
  const Node* n = &node;
  if (n->name == "onbuild" && !n->sub.empty()) n = &n->sub[0];
  if (n->name != "run" && n->name != "copy" && n->name != "add") return false;
  return !n->json;
}

Result<std::optional<Heredoc>> parse_heredoc_marker(std::string_view src) {
  // ^(\d*)<<(-?)([^<]*)$
  size_t pos = 0;
  while (pos < src.size() && src[pos] >= '0' && src[pos] <= '9') ++pos;
  std::string_view digits = src.substr(0, pos);
  if (src.substr(pos, 2) != "<<") return std::optional<Heredoc>();
  pos += 2;
  bool chomp = false;
  if (pos < src.size() && src[pos] == '-') chomp = true, ++pos;
  std::string_view rest = src.substr(pos);
  if (rest.find('<') != std::string_view::npos || rest.empty()) return std::optional<Heredoc>();

  Heredoc heredoc;
  heredoc.chomp = chomp;
  unsigned long fd = 0;
  for (char c : digits) {
    fd = fd * 10 + static_cast<unsigned long>(c - '0');
    if (fd > 0xFFFFFFFFul) {
      fd = 0;  // Go's ParseUint fails on overflow; the error is ignored, leaving 0
      break;
    }
  }
  heredoc.fd = static_cast<unsigned>(fd);

  EnvLookup none;
  LexOptions options;
  options.skip_unset_env = true;
  Expansion plain = TRY(expand(rest, none, options));
  if (plain.words.size() != 1) return std::optional<Heredoc>();
  options.raw_quotes = true;
  Expansion raw = TRY(expand(rest, none, options));
  if (raw.words.size() != plain.words.size())
    return error("internal lexing of heredoc produced inconsistent results: " + std::string(rest));
  auto quotes = [](const std::string& s) {
    size_t n = 0;
    for (char c : s) n += (c == '\'' || c == '"');
    return n;
  };
  heredoc.name = plain.words[0];
  heredoc.expand = quotes(plain.words[0]) == quotes(raw.words[0]);
  return std::optional<Heredoc>(std::move(heredoc));
}

Result<std::vector<Heredoc>> heredocs_from_line(std::string_view line) {
  EnvLookup none;
  LexOptions options;
  options.raw_quotes = true;
  options.raw_escapes = true;
  options.skip_unset_env = true;
  auto words = expand(line, none, options);
  std::vector<Heredoc> docs;
  // BuildKit ignores lexing errors here (no heredocs), but a limit is not one: ignoring it would
  // read the heredoc bodies that follow as instructions.
  if (!words && words.error().kind() == ErrorKind::kLimit) return std::unexpected(words.error());
  if (!words) return docs;
  for (const std::string& word : words->words) {
    std::optional<Heredoc> doc = TRY(parse_heredoc_marker(word));
    if (doc) docs.push_back(std::move(*doc));
  }
  return docs;
}

std::string chomp_heredoc(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') continue;
    line_start = c == '\n';
    out.push_back(c);
  }
  return out;
}

}  // namespace imgbuild::builder::dockerfile
