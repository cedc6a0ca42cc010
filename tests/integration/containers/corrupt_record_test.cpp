// A container whose state.json is damaged stays visible and removable: ps -a lists it as
// unreadable, inspect and logs name the record and the parse error, container prune reports it,
// rm needs -f and then removes it (killing what still runs in it).
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>

#include "containers_fixture.h"

namespace imgbuild::containers::testing {

TEST_CASE("a corrupt state.json is listed, named in errors and removed by rm -f", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  std::string id = cli.run_detached({"--name", "damaged", "busybox:test", "sleep", "100"});
  std::string state = cli.root + "/containers/" + id + "/state.json";
  pid_t pid = 0;
  REQUIRE(eventually([&] {
    auto j = nlohmann::json::parse(*fs::read_file(state));
    pid = j.at("container_pid").get<pid_t>();
    return j.at("status") == "running" && pid > 0;
  }));
  REQUIRE(fs::write_file_atomic(state, "{\"id\": \"" + id.substr(0, 10)));
  const std::string parse_error =
      "[json.exception.parse_error.101] parse error at line 1, column 19: syntax error while "
      "parsing value - invalid string: missing closing quote; last read: '\"" +
      id.substr(0, 10) + "'";

  auto r = cli.run({"ps", "-a", "--format", "{{.ID}}|{{.State}}|{{.Status}}|{{.Names}}"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == id.substr(0, 12) + "|unreadable|Unreadable record: " + parse_error + "|\n");
  CHECK(cli.run({"ps", "-aq", "--no-trunc"}).out == id + "\n");

  const std::string named = "container " + id + ": unreadable record " + state + ": " + parse_error;
  r = cli.run({"inspect", id.substr(0, 12)});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: " + named + "\n");
  r = cli.run({"logs", id});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: " + named + "\n");
  // Its name is unknown now; the error says there is something it could not search.
  r = cli.run({"stop", "damaged"});
  CHECK(r.exit_code == 1);
  CHECK(r.err ==
        "imgbuild: No such container: damaged (1 unreadable container record(s) not searched, see "
        "imgbuild ps -a)\n");

  r = cli.run({"container", "prune", "-f"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: container prune: skipped " + named +
                     " (remove it with imgbuild rm -f " + id + ")\n");
  CHECK(fs::exists(state));

  r = cli.run({"rm", id});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: cannot remove container \"" + id + "\": its record " + state +
                     " is unreadable (" + parse_error +
                     "), so whether it is running is unknown: force remove (rm -f) to remove it "
                     "anyway\n");
  CHECK(::kill(pid, 0) == 0);

  r = cli.run({"rm", "-f", id.substr(0, 12)});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == id.substr(0, 12) + "\n");
  CHECK_FALSE(fs::exists(cli.root + "/containers/" + id));
  CHECK(eventually([&] { return ::kill(pid, 0) != 0; }));
  CHECK(cli.run({"ps", "-a", "-q"}).out == "");
}

}  // namespace imgbuild::containers::testing
