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
