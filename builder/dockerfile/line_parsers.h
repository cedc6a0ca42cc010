// Internal to the parser: one logical line -> one Node, with BuildKit's per-instruction argument
// rules (parser/line_parsers.go and split_command.go). Errors carry no location; the parser
// adds file and line. Also the heredoc recognisers shared with instructions.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "builder/dockerfile/ast.h"

namespace imgbuild::builder::dockerfile {

// Splits instruction name, flags and arguments and dispatches to the argument parser.
// Fills value, name, flags, args, json and sub; `original` is set to `line`.
Result<Node> node_from_line(std::string_view line, char escape);

// True when the node may be followed by heredoc bodies (RUN/COPY/ADD in shell form, also as
// an ONBUILD trigger).
bool can_contain_heredoc(const Node& node);

// Heredoc markers (`<<EOF`, `<<-"EOF"`, `3<<EOF`) among the words of a logical line, in order.
Result<std::vector<Heredoc>> heredocs_from_line(std::string_view line);

// One word -> heredoc marker, or nullopt when it is not one.
Result<std::optional<Heredoc>> parse_heredoc_marker(std::string_view word);

// BuildKit's ChompHeredocContent: strips leading tabs from every line.
std::string chomp_heredoc(std::string_view content);

}  // namespace imgbuild::builder::dockerfile
