// The parser on its own: directives, continuations, comments, heredocs, line numbers, errors.
#include <catch2/catch.hpp>

#include "builder/dockerfile/parser.h"

namespace df = imgbuild::builder::dockerfile;

namespace {

df::ParsedDockerfile parse(std::string_view text) {
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  if (!parsed) FAIL(parsed.error().message());
  return std::move(*parsed);
}

std::string error_of(std::string_view text, std::string_view name = "Dockerfile") {
  auto parsed = df::parse_dockerfile(text, name);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().kind() == imgbuild::ErrorKind::kParse);
  return parsed.error().message();
}

}  // namespace

TEST_CASE("parser keeps instruction names as written and lower-cases them for dispatch") {
  auto p = parse("from alpine\nRun echo hi\n");
  REQUIRE(p.nodes.size() == 2);
  CHECK(p.nodes[0].value == "from");
  CHECK(p.nodes[1].value == "Run");
  CHECK(p.nodes[1].name == "run");
  CHECK(p.nodes[1].args == std::vector<std::string>{"echo hi"});
}

TEST_CASE("parser reads directives only at the very top") {
  auto p =
      parse("# syntax=docker/dockerfile:1\n# check=skip=all\n# escape=`\nFROM a\nRUN x `\n  y\n");
  REQUIRE(p.directives.size() == 3);
  CHECK(p.directives[0].name == "syntax");
  CHECK(p.directives[0].value == "docker/dockerfile:1");
  CHECK(p.directives[1].name == "check");
  CHECK(p.directives[1].value == "skip=all");
  CHECK(p.directives[2].line == 3);
  CHECK(p.escape == '`');
  CHECK(p.nodes[1].args == std::vector<std::string>{"x   y"});

  auto late = parse("FROM a\n# escape=`\nRUN x \\\n  y\n");
  CHECK(late.escape == '\\');
  CHECK(late.directives.empty());
}

TEST_CASE("parser rejects repeated and invalid directives with file and line") {
  CHECK(error_of("# escape=`\n# escape=\\\nFROM a\n") ==
        "Dockerfile:2: only one escape parser directive can be used");
  CHECK(error_of("# escape=x\nFROM a\n") ==
        "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
}

TEST_CASE("parser skips comments and empty lines inside continuations and warns") {
  auto p = parse("FROM a\nRUN echo \\\n# comment\n\n  done\n");
  REQUIRE(p.nodes.size() == 2);
  CHECK(p.nodes[1].args == std::vector<std::string>{"echo   done"});
  CHECK(p.nodes[1].start_line == 2);
  CHECK(p.nodes[1].end_line == 5);
  REQUIRE(p.warnings.size() == 2);
  CHECK(p.warnings[0] == "[WARNING]: Empty continuation line found in:\n    RUN echo   done");
}

TEST_CASE("parser accepts a continuation at end of file, CRLF line ends and a BOM") {
  auto p = parse(
      "\xEF\xBB\xBF"
      "FROM a\r\nRUN a \\\r\n b\r\nRUN c \\");
  REQUIRE(p.nodes.size() == 3);
  CHECK(p.nodes[0].args == std::vector<std::string>{"a"});
  CHECK(p.nodes[1].args == std::vector<std::string>{"a  b"});
  CHECK(p.nodes[2].args == std::vector<std::string>{"c"});
}

TEST_CASE("parser rejects empty and comment-only Dockerfiles") {
  CHECK(error_of("", "ci/Dockerfile") == "the Dockerfile (ci/Dockerfile) cannot be empty");
  CHECK(error_of("# just a comment\n\n") == "Dockerfile:2: file with no instructions");
  CHECK(error_of("\n  \n") == "Dockerfile:2: file with no instructions");
}

TEST_CASE("parser tells exec form from shell form") {
  auto p = parse(
      "CMD [\"a\", \"b\"]\nCMD [\"a\" \"b\"]\nCMD [\"a\"] trailing\nENTRYPOINT []\nRUN ['x']\n");
  CHECK(p.nodes[0].json);
  CHECK(p.nodes[0].args == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(p.nodes[1].json);
  CHECK(p.nodes[1].args == std::vector<std::string>{"[\"a\" \"b\"]"});
  CHECK_FALSE(p.nodes[2].json);
  CHECK(p.nodes[3].json);
  CHECK(p.nodes[3].args.empty());
  CHECK_FALSE(p.nodes[4].json);
  CHECK(error_of("CMD [\"a\", {\"b\": 1}]\n") ==
        "Dockerfile:1: when using JSON array syntax, arrays must be comprised of strings only");
}

TEST_CASE("parser extracts flags up to the first non-flag word or --") {
  auto p = parse("COPY --from=build --chown=\"a b\" --link src dst\nCOPY -- --weird dst\n");
  CHECK(p.nodes[0].flags == std::vector<std::string>{"--from=build", "--chown=a b", "--link"});
  CHECK(p.nodes[0].args == std::vector<std::string>{"src", "dst"});
  CHECK(p.nodes[1].flags.empty());
  CHECK(p.nodes[1].args == std::vector<std::string>{"--weird", "dst"});
}

TEST_CASE("parser reads heredoc bodies for RUN, COPY and ADD") {
  auto p = parse(
      "FROM a\n"
      "RUN <<EOF\necho $HOME\nEOF\n"
      "COPY <<-\"A\" 3<<B /dst/\n\tone\n\tA\ntwo\nB\n"
      "RUN [\"<<EOF\"]\n"
      "ONBUILD RUN <<X\nhi\nX\n");
  REQUIRE(p.nodes.size() == 5);
  const auto& run = p.nodes[1];
  REQUIRE(run.heredocs.size() == 1);
  CHECK(run.heredocs[0].name == "EOF");
  CHECK(run.heredocs[0].content == "echo $HOME\n");
  CHECK(run.heredocs[0].expand);
  CHECK(run.start_line == 2);
  CHECK(run.end_line == 4);

  const auto& copy = p.nodes[2];
  REQUIRE(copy.heredocs.size() == 2);
  CHECK(copy.heredocs[0].name == "A");
  CHECK(copy.heredocs[0].chomp);
  CHECK_FALSE(copy.heredocs[0].expand);
  CHECK(copy.heredocs[0].content == "\tone\n");
  CHECK(copy.heredocs[1].name == "B");
  CHECK(copy.heredocs[1].fd == 3);
  CHECK(copy.heredocs[1].content == "two\n");
  CHECK(copy.end_line == 9);

  CHECK(p.nodes[3].heredocs.empty());  // exec form never has heredocs
  REQUIRE(p.nodes[4].heredocs.size() == 1);
  CHECK(p.nodes[4].heredocs[0].content == "hi\n");
}

TEST_CASE("parser rejects an unterminated heredoc at the instruction's line") {
  CHECK(error_of("FROM a\nRUN <<EOF\nhello\n") == "Dockerfile:2: unterminated heredoc");
}

TEST_CASE("parser reports argument errors with the instruction's first line") {
  CHECK(error_of("FROM a\n\nENV PATH\n") == "Dockerfile:3: ENV must have two arguments");
  CHECK(error_of("FROM a\nLABEL a=b \\\n  c\n") ==
        "Dockerfile:2: Syntax error - can't find = in \"c\". Must be of the form: name=value");
}

TEST_CASE("parse_instruction_line parses one trigger and rejects more") {
  auto node = df::parse_instruction_line("COPY <<EOF /x\nhello\nEOF");
  REQUIRE(node);
  CHECK(node->name == "copy");
  REQUIRE(node->heredocs.size() == 1);
  CHECK(node->heredocs[0].content == "hello\n");
  auto two = df::parse_instruction_line("RUN a\nRUN b");
  REQUIRE_FALSE(two);
  CHECK(two.error().message() == "ONBUILD: onbuild trigger should be a single expression");
}

namespace {

std::string limit_of(std::string_view text, std::string_view name = "Dockerfile") {
  auto parsed = df::parse_dockerfile(text, name);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().kind() == imgbuild::ErrorKind::kLimit);
  return parsed.error().message();
}

}  // namespace

TEST_CASE("parser refuses a Dockerfile over 4 MiB before splitting it") {
  std::string text = "FROM a\n" + std::string(4 << 20, '#');
  CHECK(limit_of(text, "app.Dockerfile") == "app.Dockerfile: file is larger than 4 MiB");
  text.resize(4 << 20);
  CHECK(df::parse_dockerfile(text));
}

TEST_CASE("parser refuses a logical line over 1 MiB at its first line") {
  std::string word(1 << 20, 'x');
  CHECK(limit_of("FROM a\nRUN " + word + "\n") == "Dockerfile:2: line is longer than 1 MiB");
  std::string half(1 << 19, 'x');
  CHECK(limit_of("FROM a\n\nRUN " + half + " \\\n# comment\n" + half + "\n") ==
        "Dockerfile:3: line is longer than 1 MiB");
  CHECK(df::parse_dockerfile("FROM a\nRUN " + word.substr(4) + "\n"));
}

TEST_CASE("parser refuses more than 10000 instructions") {
  std::string text;
  for (int i = 0; i < 10'000; ++i) text += "RUN x\n";
  CHECK(df::parse_dockerfile("FROM a\n" + text.substr(6)));
  CHECK(limit_of("FROM a\n\n" + text) == "Dockerfile:10002: more than 10000 instructions");
}

TEST_CASE("parser refuses substitutions nested too deep in a RUN line (heredoc scan)") {
  std::string deep;
  for (int i = 0; i < 10'000; ++i) deep += "${A:-";
  deep += std::string(10'000, '}');
  CHECK(limit_of("FROM a\nRUN echo " + deep + "\n") ==
        "Dockerfile:2: failed to process \"RUN echo ${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:\"...: "
        "substitutions nested more than 64 levels deep");
}
