// The Dockerfile syntax tree, as BuildKit's parser produces it (frontend/dockerfile/parser).
//
// One Node per instruction, in file order. A Node keeps the instruction name as written, its
// flags (`--from=x`), its arguments after the per-instruction line parser split them (nothing is
// expanded yet), whether the arguments were a JSON array (exec form), its heredocs and its source
// line range (1-based, inclusive; continuation and heredoc lines included).
//
// Argument shapes follow BuildKit exactly, because the typed layer (instructions.h) and the
// conformance dump depend on them:
//   ENV/LABEL:  key, value, separator triplets ("=" for `k=v`, "" for the legacy `k v`).
//   ARG:        one word per declaration, `name` or `name=value` (quotes kept).
//   ONBUILD:    no args; `sub` holds the trigger instruction as its single element.
//   HEALTHCHECK: the type word ("CMD", "NONE", ...) then the command (shell string or JSON items).
//   RUN/CMD/ENTRYPOINT/SHELL shell form: a single arg, the text left for the shell.
//   Unknown instructions: no args (rejected later by instructions.h, with a suggestion).
//
// Plain values, copyable, no shared state: safe to use from any thread.
#pragma once

#include <string>
#include <vector>

namespace imgbuild::builder::dockerfile {

struct Heredoc {
  std::string name;     // delimiter word, quotes removed
  unsigned fd = 0;      // "3<<EOF" -> 3; 0 when not given
  bool expand = true;   // false when any part of the delimiter was quoted
  bool chomp = false;   // "<<-": leading tabs are stripped from content and terminator
  std::string content;  // raw lines, each with its newline; not chomped, not expanded
};

struct Node {
  std::string value;               // instruction name as written ("RUN", "run", "Copy")
  std::string name;                // lower-cased instruction name ("run")
  std::vector<std::string> flags;  // "--from=build", "--link", in order
  std::vector<std::string> args;
  std::vector<Node> sub;  // ONBUILD only: the trigger instruction
  bool json = false;      // arguments were given as a JSON array (exec form)
  std::vector<Heredoc> heredocs;
  std::string original;               // the logical line (continuations joined), as read
  std::vector<std::string> comments;  // comment lines directly above the instruction
  int start_line = 0;
  int end_line = 0;
};

struct Directive {
  std::string name;  // "syntax", "escape", "check" (lower case)
  std::string value;
  int line = 0;
};

struct ParsedDockerfile {
  std::string filename;  // as given to the parser; used in every error message
  std::vector<Node> nodes;
  char escape = '\\';  // '\\' or '`' (the escape directive)
  std::vector<Directive> directives;
  std::vector<std::string> warnings;  // e.g. empty continuation lines
};

}  // namespace imgbuild::builder::dockerfile
