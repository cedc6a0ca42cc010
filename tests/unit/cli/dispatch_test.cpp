#include "cli/dispatch.h"

#include <catch2/catch.hpp>

namespace imgbuild::cli {
namespace {

const std::vector<std::string> kNames = {"build", "images", "exec", "ps",   "rm",
                                         "rmi",   "run",    "pull", "push", "inspect"};

bool only_ctx_is_dir(const std::string& p) { return p == "ctx" || p == "."; }

Result<std::vector<std::string>> dispatch(std::vector<std::string> args) {
  args.insert(args.begin(), "imgbuild");
  return with_default_command(std::move(args), kNames, only_ctx_is_dir);
}

using V = std::vector<std::string>;

TEST_CASE("dispatch keeps a named command", "[unit]") {
  CHECK(*dispatch({"images"}) == V{"imgbuild", "images"});
  CHECK(*dispatch({"--root", "/s", "ps", "-a"}) == V{"imgbuild", "--root", "/s", "ps", "-a"});
  CHECK(*dispatch({}) == V{"imgbuild"});
  CHECK(*dispatch({"--help"}) == V{"imgbuild", "--help"});
}

TEST_CASE("dispatch defaults to build for a directory, - or a flag", "[unit]") {
  CHECK(*dispatch({"."}) == V{"imgbuild", "build", "."});
  CHECK(*dispatch({"-D", "ctx"}) == V{"imgbuild", "-D", "build", "ctx"});
  CHECK(*dispatch({"-"}) == V{"imgbuild", "build", "-"});
  CHECK(*dispatch({"-f", "Dockerfile", "-t", "app", "."}) ==
        V{"imgbuild", "build", "-f", "Dockerfile", "-t", "app", "."});
  CHECK(*dispatch({"--root=/s", "-t", "x", "ctx"}) ==
        V{"imgbuild", "--root=/s", "build", "-t", "x", "ctx"});
}

TEST_CASE("dispatch refuses an unknown word as Docker does", "[unit]") {
  auto r = dispatch({"history", "busybox"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "'history' is not an imgbuild command.\nSee 'imgbuild --help'");
}

TEST_CASE("dispatch suggests near misses", "[unit]") {
  auto r = dispatch({"exce", "web", "sh"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message() ==
        "'exce' is not an imgbuild command.\nSee 'imgbuild --help'\n\nDid you mean this?\n\texec");
  auto img = dispatch({"imges"});
  REQUIRE_FALSE(img);
  CHECK(img.error().message().ends_with("Did you mean this?\n\timages"));
}

TEST_CASE("dispatch escapes control characters in the word", "[unit]") {
  auto r = dispatch({"a\x1b[2Jb"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message().starts_with("'a\\x1b[2Jb' is not"));
}

TEST_CASE("edit distance counts swaps as one edit", "[unit]") {
  CHECK(edit_distance("exce", "exec") == 1);
  CHECK(edit_distance("", "ps") == 2);
  CHECK(edit_distance("pull", "push") == 2);
  CHECK(suggest_commands("rn", kNames) == V{"rm", "run", "ps", "rmi"});
}

}  // namespace
}  // namespace imgbuild::cli
