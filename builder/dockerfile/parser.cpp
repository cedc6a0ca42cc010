// BuildKit's Parse loop (frontend/dockerfile/parser/parser.go): a line scanner that joins
// continuation lines, skips comments, reads parser directives at the top and heredoc bodies
// after the line that opens them.
#include "builder/dockerfile/parser.h"

#include <set>
#include <string>

#include "builder/dockerfile/limits.h"
#include "builder/dockerfile/line_parsers.h"
#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

Error parse_error(std::string_view filename, int line, std::string_view message) {
  return located_error(filename, line, Error(ErrorKind::kParse, std::string(message)));
}

Error located_error(std::string_view filename, int line, const Error& cause) {
  std::string text(filename);
  if (line > 0) text += ":" + std::to_string(line);
  text += ": ";
  text += cause.message();
  return Error(cause.kind(), std::move(text));
}

namespace {

// Go regexp \s: [\t\n\f\r ] (no \v).
bool is_re_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_comment(std::string_view raw) {
  std::string_view t = text::trim_left_space(trim_newline(raw));
  return !t.empty() && t[0] == '#';
}

class DirectiveReader {
 public:
  explicit DirectiveReader(ParsedDockerfile* out) : out_(out) {}

  // `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`, only until the first non-directive line.
  Result<bool> feed(std::string_view line, int line_number) {
    if (done_) return false;
    std::string name, value;
    if (!match(line, &name, &value)) {
      done_ = true;
      return false;
    }
    name = text::to_lower(name);
    if (name != "syntax" && name != "escape" && name != "check") {
      done_ = true;
      return false;
    }
    if (!seen_.insert(name).second)
      return fail(ErrorKind::kParse, "only one " + name + " parser directive can be used");
    if (name == "escape") {
      if (value != "`" && value != "\\")
        return fail(ErrorKind::kParse,
                    "invalid escape token '" + value + "' does not match ` or \\");
      out_->escape = value[0];
    }
    out_->directives.push_back({name, value, line_number});
    return true;
  }

 private:
  static bool match(std::string_view s, std::string* name, std::string* value) {
    size_t pos = 0;
    if (s.empty() || s[0] != '#') return false;
    ++pos;
    while (pos < s.size() && is_re_space(s[pos])) ++pos;
    size_t start = pos;
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (pos >= s.size() || !alpha(s[pos])) return false;
    while (pos < s.size() && (alpha(s[pos]) || (s[pos] >= '0' && s[pos] <= '9'))) ++pos;
    *name = std::string(s.substr(start, pos - start));
    while (pos < s.size() && is_re_space(s[pos])) ++pos;
    if (pos >= s.size() || s[pos] != '=') return false;
    ++pos;
    size_t after_eq = pos;
    while (pos < s.size() && is_re_space(s[pos])) ++pos;
    size_t end = s.size();
    while (end > pos && is_re_space(s[end - 1])) --end;
    if (end == pos) {
      // Only blanks after '=': the lazy group still needs one character, the last blank.
      if (s.size() == after_eq) return false;
      *value = std::string(s.substr(s.size() - 1));
      return true;
    }
    *value = std::string(s.substr(pos, end - pos));
    return true;
  }

  ParsedDockerfile* out_;
  bool done_ = false;
  std::set<std::string> seen_;
};

// The continuation rule: the escape character as the last non-blank character, unless it is
// itself escaped; `([^E])E[ \t]*$|^E[ \t]*$` -> "$1".
bool trim_continuation(std::string& line, char escape) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end == 0 || line[end - 1] != escape) return false;
  if (end >= 2 && line[end - 2] == escape) return false;
  line.resize(end - 1);
  return true;
}

}  // namespace

Result<ParsedDockerfile> parse_dockerfile(std::string_view text, std::string_view filename) {
  ParsedDockerfile out;
  out.filename = std::string(filename);
  if (text.empty())
    return fail(ErrorKind::kParse, "the Dockerfile (" + out.filename + ") cannot be empty");
  auto limit = [&](int line, std::string message) {
    return std::unexpected(located_error(filename, line, Error(ErrorKind::kLimit, message)));
  };
  if (text.size() > kMaxDockerfileBytes)
    return limit(0, "file is larger than " + format_size(kMaxDockerfileBytes));

  // Lines keep their newline, as BuildKit's scanner does (heredoc bodies need them).
  size_t offset = 0;
  auto more_lines = [&] { return offset < text.size(); };
  auto next_line = [&] {
    size_t nl = text.find('\n', offset);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = text.substr(offset, end - offset);
    offset = end;
    return line;
  };
  auto line_too_long = [&](int line) {
    return limit(line, "line is longer than " + format_size(kMaxLineBytes));
  };

  DirectiveReader directives(&out);
  auto process_line = [&](std::string_view raw, bool strip_left,
                          int number) -> Result<std::string> {
    std::string_view token = trim_newline(raw);
    if (strip_left) token = text::trim_left_space(token);
    auto directive = directives.feed(token, number);
    if (!directive)
      return std::unexpected(parse_error(filename, number, directive.error().message()));
    if (!token.empty() && token[0] == '#') return std::string();
    return std::string(token);
  };

  std::vector<std::string> comments;
  int current = 0;
  while (more_lines()) {
    std::string_view raw = next_line();
    if (current == 0 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
    if (is_comment(raw)) {
      std::string_view body = trim_newline(raw).substr(1);
      comments.emplace_back(text::trim_space(body));
    }
    std::string line = TRY(process_line(raw, true, current + 1));
    ++current;
    int start_line = current;
    if (line.size() > kMaxLineBytes) return line_too_long(start_line);
    bool continues = trim_continuation(line, out.escape);
    if (!continues && line.empty()) {
      if (!is_comment(raw)) comments.clear();
      continue;
    }

    bool empty_continuation = false;
    while (continues && more_lines()) {
      std::string_view next_raw = next_line();
      std::string next = TRY(process_line(next_raw, false, current + 1));
      ++current;
      if (is_comment(next_raw)) continue;
      if (text::trim_left_space(next).empty()) {
        empty_continuation = true;
        continue;
      }
      continues = trim_continuation(next, out.escape);
      if (next.size() > kMaxLineBytes - line.size()) return line_too_long(start_line);
      line += next;
    }
    if (empty_continuation)
      out.warnings.push_back("[WARNING]: Empty continuation line found in:\n    " + line);

    if (out.nodes.size() == kMaxInstructions)
      return limit(start_line, "more than " + std::to_string(kMaxInstructions) + " instructions");
    auto node = node_from_line(line, out.escape);
    if (!node) return std::unexpected(located_error(filename, start_line, node.error()));

    if (can_contain_heredoc(*node)) {
      auto heredocs = heredocs_from_line(line);
      if (!heredocs) return std::unexpected(located_error(filename, start_line, heredocs.error()));
      for (Heredoc& heredoc : *heredocs) {
        bool terminated = false;
        while (more_lines()) {
          std::string_view body = next_line();
          ++current;
          std::string_view candidate = trim_newline(body);
          if (heredoc.chomp)
            while (!candidate.empty() && candidate[0] == '\t') candidate.remove_prefix(1);
          if (candidate == heredoc.name) {
            terminated = true;
            break;
          }
          heredoc.content.append(body);
        }
        if (!terminated)
          return std::unexpected(parse_error(filename, start_line, "unterminated heredoc"));
        node->heredocs.push_back(std::move(heredoc));
      }
    }

    node->start_line = start_line;
    node->end_line = current;
    node->comments = std::move(comments);
    comments.clear();
    out.nodes.push_back(std::move(*node));
  }

  if (!out.warnings.empty())
    out.warnings.push_back(
        "[WARNING]: Empty continuation lines will become errors in a future release.");
  if (out.nodes.empty())
    return std::unexpected(parse_error(filename, current, "file with no instructions"));
  return out;
}

Result<Node> parse_instruction_line(std::string_view text, std::string_view filename) {
  ParsedDockerfile parsed = TRY(parse_dockerfile(text, filename));
  if (parsed.nodes.size() != 1)
    return fail(ErrorKind::kParse,
                std::string(filename) + ": onbuild trigger should be a single expression");
  return std::move(parsed.nodes[0]);
}

}  // namespace imgbuild::builder::dockerfile
