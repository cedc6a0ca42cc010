// `imgbuild exec` end to end: a process joining a detached container's namespaces, cgroup and
// restrictions, on the real kernel with the real binary.
#include <catch2/catch.hpp>
#include <regex>

#include "containers_fixture.h"

namespace imgbuild::containers::testing {
namespace {

std::string status_field(const std::string& status, const std::string& field) {
  std::smatch m;
  if (std::regex_search(status, m, std::regex(field + ":\\s*([^\\n]*)"))) return m[1];
  return "";
}

}  // namespace

TEST_CASE("exec has the container's restrictions: read-only, no caps, user 1000", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  std::string id = cli.run_detached({"--name", "locked", "--read-only", "--cap-drop", "ALL", "-u",
                                     "1000", "busybox:test", "sleep", "100"});
  // The container's own pid 1, as a baseline.
  auto r = cli.run({"exec", "locked", "cat", "/proc/self/status"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(status_field(r.out, "CapEff") == "0000000000000000");
  CHECK(status_field(r.out, "CapPrm") == "0000000000000000");
  CHECK(status_field(r.out, "CapBnd") == "0000000000000000");
  CHECK(status_field(r.out, "NoNewPrivs") == "1");
  CHECK(status_field(r.out, "Seccomp") == "2");
  CHECK(status_field(r.out, "Uid") == "1000\t1000\t1000\t1000");
  r = cli.run({"exec", "locked", "touch", "/x"});
  CHECK(r.exit_code == 1);
  CHECK(r.out + r.err == "touch: /x: Read-only file system\n");
  // Same pid namespace (pid 1 is the container's sleep), same mount namespace, same cgroup.
  r = cli.run({"exec", "locked", "sh", "-c", "cat /proc/1/cmdline; echo; cat /proc/self/cgroup"});
  CHECK(r.out.starts_with(std::string("sleep") + '\0' + "100" + '\0' + "\n"));
  CHECK(r.out.find("imgbuild-" + id) != std::string::npos);
  // -u overrides the user; root there still has no capabilities (the bounding set is empty).
  r = cli.run({"exec", "-u", "0", "locked", "sh", "-c", "id -u; grep CapEff /proc/self/status"});
  CHECK(r.out == "0\nCapEff:\t0000000000000000\n");
}

TEST_CASE("exec: Docker's default capabilities, env, workdir, exit codes", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  std::string id = cli.run_detached({"--name", "box", "-e", "A=1", "busybox:test", "sleep", "100"});
  auto r = cli.run({"exec", "box", "grep", "CapEff", "/proc/self/status"});
  CHECK(r.out == "CapEff:\t00000000a80425fb\n");
  r = cli.run({"exec", "-e", "B=2", "-w", "/tmp", "box", "sh", "-c", "echo $A $B; pwd; hostname"});
  CHECK(r.out == "1 2\n/tmp\n" + id.substr(0, 12) + "\n");
  r = cli.run({"exec", "box", "sh", "-c", "exit 3"});
  CHECK(r.exit_code == 3);
  r = cli.run({"exec", "box", "nosuch"});
  CHECK(r.exit_code == 127);
  CHECK(r.err == "imgbuild: exec: \"nosuch\": executable file not found in $PATH\n");
  r = cli.run({"exec", "box", "/etc/passwd"});
  CHECK(r.exit_code == 126);
  r = cli.run({"exec", "-i", "box", "cat"}, "piped\n");
  CHECK(r.out == "piped\n");
  // -d returns at once; the process runs on in the container.
  r = cli.run({"exec", "-d", "box", "sh", "-c", "echo later > /tmp/d"});
  CHECK(r.exit_code == 0);
  CHECK(eventually([&] { return cli.run({"exec", "box", "cat", "/tmp/d"}).out == "later\n"; }));
  r = cli.run({"exec", "nosuchbox", "true"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: No such container: nosuchbox\n");
}

TEST_CASE("exec into a stopped container is Docker's error", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  auto r = cli.run({"run", "--name", "done", "busybox:test", "true"});
  REQUIRE(r.exit_code == 0);
  auto id = cli.run({"ps", "-aq", "--no-trunc"}).out;
  REQUIRE(id.size() == 65);
  r = cli.run({"exec", "done", "true"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: container " + id.substr(0, 64) + " is not running\n");
}

}  // namespace imgbuild::containers::testing
