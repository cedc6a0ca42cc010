// The lexer of Go's text/template, for format/template.h: cuts a template into text and the
// tokens of its actions. Trim markers ("{{- " and " -}}") are applied here, to the neighbouring
// text; comments ("{{/* ... */}}") vanish. A lexical error becomes a kError token at the place it
// occurs, so the parser reports whichever error comes first in the text, as Go does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imgbuild::format {

enum class Tok {
  kText,
  kLeftDelim,
  kRightDelim,
  kSpace,
  kField,       // ".Name" (value without the dot)
  kVariable,    // "$" or "$name" (value with the $)
  kDot,         // "."
  kIdentifier,  // function name
  kKeyword,     // if else end range with define template block break continue
  kString,      // quoted or raw string, value unquoted
  kNumber,
  kBool,
  kNil,
  kPipe,
  kLeftParen,
  kRightParen,
  kDeclare,  // :=
  kAssign,   // =
  kChar,     // any other printable character (',' in range declarations)
  kError,    // value: the message
  kEof,
};

struct Token {
  Tok type;
  std::string value;
  std::string raw;  // the source text, for error messages
  size_t pos = 0;   // byte offset in the template
  int line = 1;
};

std::vector<Token> lex_template(std::string_view text);

}  // namespace imgbuild::format
