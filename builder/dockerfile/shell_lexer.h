// Word expansion with BuildKit's shell lexer semantics (frontend/dockerfile/shell/lex.go):
// single and double quotes, the escape character ('\\' or '`'), $VAR and ${VAR}, and the
// modifiers ${VAR:-w} ${VAR-w} ${VAR:+w} ${VAR+w} ${VAR:?w} ${VAR?w} ${VAR#p} ${VAR##p} ${VAR%p}
// ${VAR%%p} ${VAR/p/r} ${VAR//p/r} (patterns: `*`, `?`, escapes `\*` `\?` `\\`). Positional and
// special parameters ($1, $@, $#, ...) are never set. Nothing runs: no command substitution.
//
// expand_word gives one string (quotes removed, inner spaces kept): what Docker uses for ENV and
// LABEL values, WORKDIR, USER, COPY sources/destination, FROM, ARG defaults. expand_words also
// splits the result into words on unquoted whitespace (EXPOSE, heredoc delimiters).
//
// Variables come from a lookup function; nullopt means "unset" (distinct from set-but-empty,
// which matters for ${X-w} vs ${X:-w}). Errors are kParse with BuildKit's text, e.g.
//   failed to process "${X:?}": X: is not allowed to be unset
//   failed to process "${}": syntax error: bad substitution
// or kLimit when the word passes a limit of limits.h (checked as the word grows, so no time or
// memory is spent past it; only the first 48 bytes of a long word are quoted). With A set to 16
// "A"s and B to 1 MiB:
//   failed to process "${A//A/${A//A/${A//A/${A//A/${A//A/${A//A/$A}}}}"...: expands to more
//   than 1 MiB
//   failed to process "${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A"...: substitutions
//   nested more than 64 levels deep
//   failed to process "${B#$B}": expansion takes more than 16777216 steps
// Stateless functions; safe to call from any thread (the lookup must be too).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::builder::dockerfile {

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

struct LexOptions {
  char escape = '\\';
  bool raw_quotes = false;           // keep quote characters in the output
  bool raw_escapes = false;          // keep escape characters in the output
  bool skip_process_quotes = false;  // quotes are ordinary characters (heredoc bodies)
  bool skip_unset_env = false;       // leave references to unset variables as written
};

struct Expansion {
  std::string word;                // the whole expansion
  std::vector<std::string> words;  // split on unquoted whitespace
  std::vector<std::string> used;   // variables that were found (in order of first use)
  std::vector<std::string> unset;  // variables referenced but unset
  uint64_t steps = 0;              // work done (limits.h), at most kMaxWordSteps
};

Result<Expansion> expand(std::string_view text, const EnvLookup& env,
                         const LexOptions& options = {});

Result<std::string> expand_word(std::string_view text, const EnvLookup& env, char escape = '\\');
Result<std::vector<std::string>> expand_words(std::string_view text, const EnvLookup& env,
                                              char escape = '\\');

// A lookup over "KEY=VALUE" pairs (later entries win), for tests and simple callers.
EnvLookup env_lookup(const std::vector<std::pair<std::string, std::string>>& vars);

}  // namespace imgbuild::builder::dockerfile
