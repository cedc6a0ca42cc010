// The parse tree of a Go text/template (format/template.h) and its parser. Node kinds follow Go's
// text/template/parse: text, actions ({{pipeline}}), if/range/with with optional else, and
// pipelines of commands whose arguments are fields, variables, literals, function names or
// parenthesized pipelines. Errors are Go's: "template: NAME:LINE: unexpected \"}\" in operand".
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::format {

struct Pipeline;

struct Arg {
  enum class Kind { kField, kVariable, kDot, kFunction, kLiteral, kPipeline };
  Kind kind = Kind::kLiteral;
  std::string name;                // variable or function name
  std::vector<std::string> chain;  // field names applied after the term
  nlohmann::json literal;
  std::shared_ptr<Pipeline> pipeline;
  size_t pos = 0;
  std::string text;  // the source text, for "executing ... at <.Foo>"
};

struct Command {
  std::vector<Arg> args;
  size_t pos = 0;
};

struct Pipeline {
  std::vector<std::string> declare;  // "$x" or "$i", "$e"
  bool assign = false;               // "=" rather than ":="
  std::vector<Command> commands;
  size_t pos = 0;
};

struct Node {
  enum class Kind { kText, kAction, kIf, kRange, kWith };
  Kind kind = Kind::kText;
  std::string text;
  Pipeline pipeline;
  std::vector<Node> list;
  std::vector<Node> else_list;
  size_t pos = 0;
};

// Parses text; name is used in errors ("template: NAME:1: ..."; Docker's templates have "").
Result<std::vector<Node>> parse_template(std::string_view text, const std::string& name);

// Functions known to the parser (an unknown one is a parse error, as in Go).
bool is_template_function(const std::string& name);

}  // namespace imgbuild::format
