// A Go text/template engine over nlohmann::json values: what `docker ... --format` accepts.
//
// Supported, with Go's semantics: text and {{actions}}; "{{- " and " -}}" trim markers;
// {{/* comments */}}; fields (.A.B, on objects; a missing key is null and prints "<no value>");
// $ and variables ($x := ..., $x = ..., range $i, $e := ...); literals; parenthesized pipelines;
// pipelines (`.X | lower`, the previous value passed as the last argument); if/else if/else,
// range/else, with/else. Functions: Go's and, or, not, len, index, slice, print, printf, println,
// eq, ne, lt, le, gt, ge, and Docker's json, split, join, title, lower, upper, pad, truncate.
// Values print as Go's fmt prints them (format/go_print.h). define/template/block are refused.
//
// Errors are Go's text: parse errors "template: NAME:LINE: MESSAGE", execution errors
// "template: NAME:LINE:COL: executing \"NAME\" at <ARG>: MESSAGE". A Template is immutable after
// parse() and may be executed from several threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "format/template_parse.h"

namespace imgbuild::format {

enum class Functions {
  kData,    // the functions above
  kHeader,  // Docker's header functions: json, split, join, title, lower, upper, pad and
            // truncate return their first argument (a column title) unchanged
};

class Template {
 public:
  static Result<Template> parse(std::string_view text, std::string name = "");

  Result<std::string> execute(const nlohmann::json& data,
                              Functions functions = Functions::kData) const;

 private:
  Template(std::string text, std::string name, std::vector<Node> nodes)
      : text_(std::move(text)), name_(std::move(name)), nodes_(std::move(nodes)) {}

  std::string text_;
  std::string name_;
  std::vector<Node> nodes_;
};

// Go's truth: false, 0, null, "" and empty arrays and objects are false.
bool go_truth(const nlohmann::json& value);

// Calls a template function by name; kInvalidArgument with Go's message on a bad argument
// ("wrong number of args for not: want 1 got 2", "index out of range: 5").
Result<nlohmann::json> call_template_function(const std::string& name,
                                              const std::vector<nlohmann::json>& args,
                                              Functions functions);

}  // namespace imgbuild::format
