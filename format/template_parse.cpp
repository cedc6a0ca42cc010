#include "format/template_parse.h"

#include <charconv>
#include <cstdlib>
#include <set>

#include "format/template_lexer.h"

namespace imgbuild::format {
namespace {

// Thrown inside the parser only, caught by parse_template: recursive descent without TRY at
// every level, as Go's parser panics with its errors.
struct ParseFailure {
  std::string message;
  int line;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  std::vector<Node> parse() {
    vars_.push_back("$");
    auto [list, end] = item_list();
    if (end != nullptr) unexpected_keyword(*end);
    return list;
  }

 private:
  const Token& next() {
    const Token& t = tokens_[std::min(index_, tokens_.size() - 1)];
    ++index_;
    if (t.type == Tok::kError) throw ParseFailure{t.value, t.line};
    return t;
  }
  void backup() { --index_; }
  const Token& peek() {
    const Token& t = next();
    backup();
    return t;
  }
  const Token& next_non_space() {
    const Token* t = &next();
    while (t->type == Tok::kSpace) t = &next();
    return *t;
  }
  const Token& peek_non_space() {
    const Token& t = next_non_space();
    backup();
    return t;
  }

  [[noreturn]] void fail(const std::string& message, const Token& at) {
    throw ParseFailure{message, at.line};
  }

  static std::string describe(const Token& t) {
    if (t.type == Tok::kEof) return "EOF";
    if (t.type == Tok::kKeyword) return "<" + t.value + ">";
    std::string raw = t.raw.empty() ? t.value : t.raw;
    if (raw.size() > 10) return "\"" + raw.substr(0, 10) + "\"...";
    return "\"" + raw + "\"";
  }

  [[noreturn]] void unexpected(const Token& t, const std::string& context) {
    fail("unexpected " + describe(t) + " in " + context, t);
  }

  [[noreturn]] void unexpected_keyword(const Token& t) {
    fail("unexpected {{" + t.value + "}}", t);
  }

  // Parses nodes until EOF or {{end}}/{{else}}; returns the terminating keyword token (nullptr at
  // EOF). The terminator's right delimiter is consumed for "end", left for "else".
  std::pair<std::vector<Node>, const Token*> item_list() {
    std::vector<Node> list;
    while (true) {
      const Token& t = next();
      if (t.type == Tok::kEof) return {std::move(list), nullptr};
      if (t.type == Tok::kText) {
        list.push_back(Node{.kind = Node::Kind::kText, .text = t.value, .pos = t.pos});
        continue;
      }
      // Left delimiter.
      const Token& first = peek_non_space();
      if (first.type == Tok::kKeyword) {
        const Token& kw = next_non_space();
        if (kw.value == "end") {
          expect_right_delim("end");
          return {std::move(list), &kw};
        }
        if (kw.value == "else") return {std::move(list), &kw};
        list.push_back(control(kw));
        continue;
      }
      Node action{.kind = Node::Kind::kAction, .pos = first.pos};
      action.pipeline = pipeline("command", Tok::kRightDelim);
      list.push_back(std::move(action));
    }
  }

  void expect_right_delim(const std::string& context) {
    const Token& t = next_non_space();
    if (t.type != Tok::kRightDelim) unexpected(t, context);
  }

  Node control(const Token& kw) {
    Node node{.pos = kw.pos};
    if (kw.value == "if") {
      node.kind = Node::Kind::kIf;
    } else if (kw.value == "range") {
      node.kind = Node::Kind::kRange;
    } else if (kw.value == "with") {
      node.kind = Node::Kind::kWith;
    } else {
      fail("{{" + kw.value + "}} is not supported in --format templates", kw);
    }
    size_t vars_mark = vars_.size();
    node.pipeline = pipeline(kw.value, Tok::kRightDelim);
    auto [list, end] = item_list();
    if (end == nullptr) fail("unexpected EOF", tokens_.back());
    node.list = std::move(list);
    if (end->value == "else") {
      // {{else if ...}} and {{else with ...}} chain: the rest is one nested node.
      const Token& after = peek_non_space();
      if (after.type == Tok::kKeyword && (after.value == "if" || after.value == "with") &&
          (kw.value == "if" || kw.value == "with") && after.value == kw.value) {
        const Token& nested = next_non_space();
        node.else_list.push_back(control(nested));
        vars_.resize(vars_mark);
        return node;
      }
      expect_right_delim("else");
      auto [else_list, else_end] = item_list();
      if (else_end == nullptr) fail("unexpected EOF", tokens_.back());
      if (else_end->value != "end") fail("expected end; found {{else}}", *else_end);
      node.else_list = std::move(else_list);
    }
    vars_.resize(vars_mark);
    return node;
  }

  Pipeline pipeline(const std::string& context, Tok end) {
    Pipeline pipe{.pos = peek_non_space().pos};
    // Declarations: "$x :=", "$x =", and for range "$i, $e :=".
    const Token& v = peek_non_space();
    if (v.type == Tok::kVariable) {
      size_t save = index_;
      next_non_space();
      const Token& op = next_non_space();
      if (op.type == Tok::kDeclare || op.type == Tok::kAssign) {
        pipe.declare.push_back(v.value);
        pipe.assign = op.type == Tok::kAssign;
      } else if (op.type == Tok::kChar && op.value == "," && context == "range") {
        const Token& second = next_non_space();
        const Token& op2 = next_non_space();
        if (second.type != Tok::kVariable || op2.type != Tok::kDeclare) {
          fail("range can only initialize variables", second);
        }
        pipe.declare = {v.value, second.value};
      } else {
        index_ = save;
      }
      if (!pipe.declare.empty()) {
        for (const auto& name : pipe.declare) {
          if (pipe.assign) {
            if (!is_defined(name)) fail("undefined variable \"" + name + "\"", v);
          } else {
            vars_.push_back(name);
          }
        }
      }
    }
    while (true) {
      const Token& t = next_non_space();
      if (t.type == end) {
        if (pipe.commands.empty()) fail("missing value for " + context, t);
        if (end == Tok::kRightParen) backup();
        return pipe;
      }
      if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen || t.type == Tok::kEof) {
        unexpected(t, context);
      }
      backup();
      pipe.commands.push_back(command());
      const Token& sep = next_non_space();
      if (sep.type == Tok::kPipe) {
        const Token& after = peek_non_space();
        if (after.type == end) fail("missing command after |", after);
        continue;
      }
      backup();
    }
  }

  Command command() {
    Command cmd{.pos = peek_non_space().pos};
    while (true) {
      peek_non_space();
      while (peek().type == Tok::kSpace) next();
      auto operand_arg = operand();
      if (operand_arg) cmd.args.push_back(std::move(*operand_arg));
      const Token& t = next();
      if (t.type == Tok::kSpace) continue;
      if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen || t.type == Tok::kPipe) {
        backup();
        break;
      }
      unexpected(t, "operand");
    }
    if (cmd.args.empty()) fail("empty command", peek());
    return cmd;
  }

  std::optional<Arg> operand() {
    auto arg = term();
    if (!arg) return std::nullopt;
    while (peek().type == Tok::kField) {
      const Token& f = next();
      if (arg->kind == Arg::Kind::kLiteral || arg->kind == Arg::Kind::kFunction) {
        fail("unexpected . after term \"" + arg->text + "\"", f);
      }
      arg->chain.push_back(f.value);
      arg->text += "." + f.value;
    }
    return arg;
  }

  std::optional<Arg> term() {
    const Token& t = next();
    Arg arg{.pos = t.pos, .text = t.raw};
    switch (t.type) {
      case Tok::kIdentifier:
        if (!is_template_function(t.value)) fail("function \"" + t.value + "\" not defined", t);
        arg.kind = Arg::Kind::kFunction;
        arg.name = t.value;
        return arg;
      case Tok::kDot: arg.kind = Arg::Kind::kDot; return arg;
      case Tok::kNil: arg.kind = Arg::Kind::kLiteral; return arg;
      case Tok::kVariable:
        if (!is_defined(t.value)) fail("undefined variable \"" + t.value + "\"", t);
        arg.kind = Arg::Kind::kVariable;
        arg.name = t.value;
        return arg;
      case Tok::kField:
        arg.kind = Arg::Kind::kField;
        arg.chain.push_back(t.value);
        return arg;
      case Tok::kBool: arg.literal = t.value == "true"; return arg;
      case Tok::kString: arg.literal = t.value; return arg;
      case Tok::kNumber: arg.literal = number(t); return arg;
      case Tok::kLeftParen: {
        arg.kind = Arg::Kind::kPipeline;
        arg.pipeline =
            std::make_shared<Pipeline>(pipeline("parenthesized pipeline", Tok::kRightParen));
        const Token& close = next();
        if (close.type != Tok::kRightParen) unexpected(close, "parenthesized pipeline");
        arg.text = "(...)";
        return arg;
      }
      default: backup(); return std::nullopt;
    }
  }

  nlohmann::json number(const Token& t) {
    const std::string& s = t.value;
    int64_t i = 0;
    const char* begin = s.data() + (s.starts_with("+") ? 1 : 0);
    auto [end, ec] = std::from_chars(begin, s.data() + s.size(), i);
    if (ec == std::errc() && end == s.data() + s.size()) return i;
    if (s.starts_with("0x") || s.starts_with("0X")) {
      auto [hend, hec] = std::from_chars(s.data() + 2, s.data() + s.size(), i, 16);
      if (hec == std::errc() && hend == s.data() + s.size()) return i;
    }
    char* fend = nullptr;
    double d = std::strtod(s.c_str(), &fend);
    if (fend != nullptr && *fend == '\0' && !s.empty()) return d;
    fail("bad number syntax: \"" + s + "\"", t);
  }

  bool is_defined(const std::string& name) const {
    for (const auto& v : vars_) {
      if (v == name) return true;
    }
    return false;
  }

  std::vector<Token> tokens_;
  size_t index_ = 0;
  std::vector<std::string> vars_;
};

}  // namespace

bool is_template_function(const std::string& name) {
  static const std::set<std::string> kFunctions = {
      "and",     "or",   "not",   "len",   "index", "slice", "print",   "printf",
      "println", "eq",   "ne",    "lt",    "le",    "gt",    "ge",      "json",
      "split",   "join", "title", "lower", "upper", "pad",   "truncate"};
  return kFunctions.contains(name);
}

Result<std::vector<Node>> parse_template(std::string_view text, const std::string& name) {
  try {
    return Parser(lex_template(text)).parse();
  } catch (const ParseFailure& f) {
    return imgbuild::fail(ErrorKind::kParse,
                          "template: " + name + ":" + std::to_string(f.line) + ": " + f.message);
  }
}

}  // namespace imgbuild::format
