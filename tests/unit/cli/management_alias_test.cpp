#include <catch2/catch.hpp>

#include "cli/dispatch.h"

namespace imgbuild::cli {
namespace {

using Args = std::vector<std::string>;

const Args kCommands = {"build", "images",  "rmi",  "inspect",   "ps",     "rm",
                        "prune", "history", "exec", "container", "volume", "system"};

Args dispatch(Args args) {
  auto out =
      with_default_command(std::move(args), kCommands, [](const std::string&) { return false; });
  REQUIRE(out);
  return *out;
}

}  // namespace

TEST_CASE("image and container management commands map onto the top-level ones", "[unit]") {
  CHECK(dispatch({"imgbuild", "image", "ls", "-q"}) == Args{"imgbuild", "images", "-q"});
  CHECK(dispatch({"imgbuild", "--root", "/r", "image", "rm", "app"}) ==
        Args{"imgbuild", "--root", "/r", "rmi", "app"});
  CHECK(dispatch({"imgbuild", "image", "inspect", "app"}) ==
        Args{"imgbuild", "inspect", "--type", "image", "app"});
  CHECK(dispatch({"imgbuild", "image", "prune", "-a", "-f"}) ==
        Args{"imgbuild", "prune", "-a", "-f"});
  CHECK(dispatch({"imgbuild", "image", "history", "app"}) == Args{"imgbuild", "history", "app"});
  CHECK(dispatch({"imgbuild", "container", "ls", "-a"}) == Args{"imgbuild", "ps", "-a"});
  CHECK(dispatch({"imgbuild", "container", "inspect", "web"}) ==
        Args{"imgbuild", "inspect", "--type", "container", "web"});
  CHECK(dispatch({"imgbuild", "container", "exec", "web", "ls"}) ==
        Args{"imgbuild", "exec", "web", "ls"});
}

TEST_CASE("management words without a command here are left alone", "[unit]") {
  // container prune is the container command's own subcommand.
  CHECK(dispatch({"imgbuild", "container", "prune", "-f"}) ==
        Args{"imgbuild", "container", "prune", "-f"});
  // No "stats" command here: the container command reports it.
  CHECK(dispatch({"imgbuild", "container", "stats"}) == Args{"imgbuild", "container", "stats"});
  // Only the first word after the globals is a command.
  CHECK(dispatch({"imgbuild", "ps", "image", "ls"}) == Args{"imgbuild", "ps", "image", "ls"});
}

}  // namespace imgbuild::cli
