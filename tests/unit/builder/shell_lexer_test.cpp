// Word expansion beyond BuildKit's tables: pattern modifiers, escapes, errors, word splitting.
#include <catch2/catch.hpp>

#include "builder/dockerfile/shell_lexer.h"

namespace df = imgbuild::builder::dockerfile;

namespace {

const df::EnvLookup& env() {
  static const df::EnvLookup lookup =
      df::env_lookup({{"P", "/usr/local/bin"}, {"A", "hello world"}, {"E", ""}, {"F", "a.tar.gz"}});
  return lookup;
}

std::string x(std::string_view text, char escape = '\\') {
  auto r = df::expand_word(text, env(), escape);
  return r ? *r : "error: " + r.error().message();
}

}  // namespace

TEST_CASE("shell lexer: default and alternative value modifiers") {
  CHECK(x("${E:-d}") == "d");
  CHECK(x("${E-d}") == "");
  CHECK(x("${NOPE-d}") == "d");
  CHECK(x("${E:+x}") == "");
  CHECK(x("${E+x}") == "x");
  CHECK(x("${A:+[$A]}") == "[hello world]");
}

TEST_CASE("shell lexer: required value modifiers fail with BuildKit's messages") {
  CHECK(x("${NOPE?}") == "error: failed to process \"${NOPE?}\": NOPE: is not allowed to be unset");
  CHECK(x("${E:?}") == "error: failed to process \"${E:?}\": E: is not allowed to be empty");
  CHECK(x("${E:?set it}") == "error: failed to process \"${E:?set it}\": E: set it");
  CHECK(x("${E?}") == "");
}

TEST_CASE("shell lexer: prefix and suffix removal, shortest and longest") {
  CHECK(x("${P#*/}") == "usr/local/bin");
  CHECK(x("${P##*/}") == "bin");
  CHECK(x("${P%/*}") == "/usr/local");
  CHECK(x("${P%%/*}") == "");
  CHECK(x("${F%.*}") == "a.tar");
  CHECK(x("${F%%.*}") == "a");
  CHECK(x("${F#?.}") == "tar.gz");
  CHECK(x("${F#x}") == "a.tar.gz");
  CHECK(x("${F%\\*}") == "a.tar.gz");
}

TEST_CASE("shell lexer: pattern substitution, first and all") {
  CHECK(x("${P/local/LOCAL}") == "/usr/LOCAL/bin");
  CHECK(x("${P//\\//_}") == "_usr_local_bin");
  CHECK(x("${A/o/0}") == "hell0 world");
  CHECK(x("${A//o/0}") == "hell0 w0rld");
  CHECK(x("${A//l*/L}") == "heL");
  CHECK(x("${NOPE/a/b}") == "");
}

TEST_CASE("shell lexer: syntax errors") {
  CHECK(x("${}") == "error: failed to process \"${}\": syntax error: bad substitution");
  CHECK(x("${A") == "error: failed to process \"${A\": syntax error: missing '}'");
  CHECK(x("${A:=x}") ==
        "error: failed to process \"${A:=x}\": unsupported modifier (:=) in substitution");
  CHECK(x("${A/x") == "error: failed to process \"${A/x\": syntax error: missing '/' in ${}");
  CHECK(x("'abc") ==
        "error: failed to process \"'abc\": unexpected end of statement while looking for matching "
        "single-quote");
  CHECK(x("${A#\\q}") ==
        "error: failed to process \"${A#\\\\q}\": invalid pattern (\\q) in substitution: invalid "
        "escape '\\q'");
}

TEST_CASE("shell lexer: backtick escape token") {
  CHECK(x("a`$A", '`') == "a$A");
  CHECK(x("\"`\"$A`\"\"", '`') == "\"hello world\"");
  CHECK(x("c:\\path", '`') == "c:\\path");
}

TEST_CASE("shell lexer: splitting keeps quoted and escaped blanks") {
  auto words = df::expand_words("$A \"$A\" a\\ b ''", env());
  REQUIRE(words);
  CHECK(*words == std::vector<std::string>{"hello", "world", "hello world", "a b"});
}

TEST_CASE("shell lexer: reports used and unset variables") {
  auto e = df::expand("$A ${NOPE:-x} $A", env());
  REQUIRE(e);
  CHECK(e->used == std::vector<std::string>{"A"});
  CHECK(e->unset == std::vector<std::string>{"NOPE"});
}

namespace {

std::string nested(std::string_view open, size_t depth, std::string_view inner) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += open;
  s += inner;
  return s + std::string(depth, '}');
}

df::Expansion expansion_of(std::string_view text) {
  auto e = df::expand(text, env());
  if (!e) FAIL(e.error().message());
  return std::move(*e);
}

std::string limit_error(std::string_view text) {
  auto e = df::expand(text, env());
  REQUIRE_FALSE(e);
  CHECK(e.error().kind() == imgbuild::ErrorKind::kLimit);
  return e.error().message();
}

}  // namespace

TEST_CASE("shell lexer: substitutions nest 64 levels deep, not more") {
  CHECK(expansion_of(nested("${NOPE:-", 64, "x")).word == "x");
  CHECK(limit_error(nested("${NOPE:-", 65, "x")) ==
        "failed to process \"${NOPE:-${NOPE:-${NOPE:-${NOPE:-${NOPE:-${NOPE:-\"...: "
        "substitutions nested more than 64 levels deep");
  // 10,000 levels overflowed the stack; inside double quotes too.
  CHECK(limit_error(nested("${A:-", 10'000, "x")) ==
        "failed to process \"${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A\"...: "
        "substitutions nested more than 64 levels deep");
  CHECK(limit_error(nested("\"${A:-", 10'000, "x"))
            .ends_with(": substitutions nested more than 64 levels deep"));
}

TEST_CASE("shell lexer: a word stops growing at 1 MiB, before the next substitution runs") {
  // An empty pattern matches at the 12 boundaries of the 11 runes of "hello world": every level
  // multiplies the size by 12, and the fuzzer's nesting (tests/fuzz/corpus/shell) had no end.
  CHECK(expansion_of(nested("${A///", 4, "0123456789abcdef")).word.size() == 352'511);
  CHECK(limit_error(nested("${A///", 5, "0123456789abcdef")) ==
        "failed to process \"${A///${A///${A///${A///${A///0123456789abcdef}}\"...: expands to "
        "more than 1 MiB");
  // A word of literal text is a word too.
  CHECK(limit_error(std::string((1 << 20) + 1, 'x')).ends_with(": expands to more than 1 MiB"));
}

TEST_CASE("shell lexer: work on values looked up or matched is bounded too") {
  const std::string big(1 << 20, 'a');
  df::EnvLookup lookup = df::env_lookup({{"B", big}});
  // Each ${B:+} copies the value and throws it away.
  std::string discard;
  for (int i = 0; i < 40; ++i) discard += "${B:+}";
  auto copies = df::expand(discard, lookup);
  REQUIRE_FALSE(copies);
  CHECK(copies.error().message() == "failed to process \"" + discard.substr(0, 48) +
                                        "\"...: expansion takes more than 16777216 steps");
  // A 1 MiB pattern against a 1 MiB value would take 10^12 steps.
  auto matched = df::expand("${B#$B}", lookup);
  REQUIRE_FALSE(matched);
  CHECK(matched.error().kind() == imgbuild::ErrorKind::kLimit);
  CHECK(matched.error().message() ==
        "failed to process \"${B#$B}\": expansion takes more than 16777216 steps");
  CHECK(df::expand("${B#a}", lookup)->word.size() == big.size() - 1);
}
