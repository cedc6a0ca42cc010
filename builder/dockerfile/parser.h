// Dockerfile parser: text -> syntax tree (ast.h), following BuildKit's grammar exactly: parser
// directives at the very top (`# syntax=`, `# escape=`, `# check=`), comments, blank lines,
// line continuations (comment and empty lines inside a continuation are skipped, a continuation
// at end of file is accepted), case-insensitive instruction names, exec (JSON) vs shell form,
// flags, and heredocs for RUN, COPY and ADD (and ONBUILD of those).
//
// Errors are ErrorKind::kParse and name the file and line, BuildKit's way:
//   "Dockerfile:3: ENV must have two arguments"
//   "Dockerfile:1: only one escape parser directive can be used"
//   "the Dockerfile (Dockerfile) cannot be empty"          (no bytes at all)
//   "Dockerfile:3: file with no instructions"              (only comments / blank lines)
// Unknown instruction names are not an error at this level (BuildKit's parser keeps them);
// instructions.h rejects them ("Dockerfile:7: unknown instruction: COPPY (did you mean copy?)").
// The limits of limits.h are kLimit errors, checked before the input is split up or copied:
//   "Dockerfile: file is larger than 4 MiB"
//   "Dockerfile:3: line is longer than 1 MiB"                (a logical line: at its first line)
//   "Dockerfile:10001: more than 10000 instructions"
//
// Pure functions, no I/O, thread-safe. Input is arbitrary bytes (fuzzed); never crashes.
#pragma once

#include <string_view>

#include "base/error.h"
#include "builder/dockerfile/ast.h"

namespace imgbuild::builder::dockerfile {

Result<ParsedDockerfile> parse_dockerfile(std::string_view text,
                                          std::string_view filename = "Dockerfile");

// Parses a single instruction given as text, e.g. an ONBUILD trigger stored in a base image's
// config ("RUN make", or "COPY <<EOF /x\nhello\nEOF" with its heredoc body). More than one
// instruction, or none, is an error ("onbuild trigger should be a single expression").
Result<Node> parse_instruction_line(std::string_view text, std::string_view filename = "ONBUILD");

// "<filename>:<line>: <message>" as a kParse error; line 0 omits the line.
Error parse_error(std::string_view filename, int line, std::string_view message);
// The same location before cause's message, keeping cause's kind (kParse, kLimit).
Error located_error(std::string_view filename, int line, const Error& cause);

}  // namespace imgbuild::builder::dockerfile
