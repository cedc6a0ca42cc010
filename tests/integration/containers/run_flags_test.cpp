// `run` flags of the engine: --tmpfs, --stop-signal, --stop-timeout, --ulimit, --shm-size,
// --add-host, --label/--label-file (and ps --filter label=).
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>

#include "containers_fixture.h"

namespace imgbuild::containers::testing {

TEST_CASE("run --tmpfs mounts a sized tmpfs; bad options are refused", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  auto r = cli.run({"run", "--rm", "--tmpfs", "/scratch:rw,size=1m", "busybox:test", "sh", "-c",
                    "grep ' /scratch ' /proc/mounts; echo x > /scratch/f && cat /scratch/f"});
  INFO(r.err);
  CHECK(r.out.starts_with("tmpfs /scratch tmpfs rw,nosuid"));
  CHECK(r.out.find("size=1024k") != std::string::npos);
  CHECK(r.out.ends_with("\nx\n"));
  r = cli.run({"run", "--rm", "--tmpfs", "/scratch:uid=5", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
  CHECK(
      r.err ==
      "imgbuild: invalid --tmpfs \"/scratch:uid=5\": option uid=5 is not supported (size=, rw)\n");
}

TEST_CASE("stop uses the container's --stop-signal and --stop-timeout", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  // pid 1 (sleep) has no SIGTERM handler, so only the timeout's SIGKILL stops it.
  cli.run_detached({"--name", "t", "--stop-timeout", "1", "busybox:test", "sleep", "100"});
  auto start = std::chrono::steady_clock::now();
  CHECK(cli.run({"stop", "t"}).out == "t\n");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(8));
  cli.run_detached({"--name", "k", "--stop-signal", "KILL", "busybox:test", "sleep", "100"});
  start = std::chrono::steady_clock::now();
  CHECK(cli.run({"stop", "-t", "30", "k"}).out == "k\n");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(8));
  CHECK(cli.run({"wait", "k"}).out == "137\n");
  auto r = cli.run({"run", "--stop-signal", "NOPE", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
}

}  // namespace imgbuild::containers::testing

namespace imgbuild::containers::testing {

TEST_CASE("run --ulimit sets the limits; bad ones are Docker's errors", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  auto r = cli.run({"run", "--rm", "--ulimit", "nofile=100:200", "--ulimit", "core=0",
                    "busybox:test", "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "100\n200\n0\n");
  // Without --ulimit: Docker's nofile default.
  r = cli.run({"run", "--rm", "busybox:test", "sh", "-c", "ulimit -n"});
  CHECK(r.out == "1024\n");
  r = cli.run({"run", "--rm", "--ulimit", "files=1", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err ==
        "imgbuild: invalid argument \"files=1\" for \"--ulimit\" flag: invalid ulimit type: "
        "files\n");
  r = cli.run({"run", "--rm", "--ulimit", "nofile=20:10", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err.find("ulimit soft limit must be less than or equal to hard limit: 20 > 10") !=
        std::string::npos);
}

TEST_CASE("run --shm-size and --add-host reach /dev/shm and /etc/hosts", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  auto r = cli.run({"run", "--rm", "--shm-size", "8m", "--add-host", "db.internal:10.1.2.3",
                    "--add-host", "v6=::1", "busybox:test", "sh", "-c",
                    "grep ' /dev/shm ' /proc/mounts; cat /etc/hosts"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("size=8192k") != std::string::npos);
  CHECK(r.out.find("10.1.2.3\tdb.internal\n") != std::string::npos);
  CHECK(r.out.find("::1\tv6\n") != std::string::npos);
  r = cli.run({"run", "--rm", "busybox:test", "grep", " /dev/shm ", "/proc/mounts"});
  CHECK(r.out.find("size=65536k") != std::string::npos);
  r = cli.run({"run", "--rm", "--add-host", "db:nowhere", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err == "imgbuild: --add-host \"db:nowhere\": expected HOST:IP with a valid IP address\n");
}

std::string sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST_CASE("run --label and --label-file: inspect shows them, ps filters on them", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  std::string file = cli.dir.path() + "/labels";
  REQUIRE(fs::write_file_atomic(file, "# team labels\ntier=db\nowner=files\n"));
  auto r = cli.run({"run", "--name", "l1", "--label-file", file, "--label", "owner=flag", "-l",
                    "solo", "busybox:test", "true"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(
      cli.run({"run", "--name", "l2", "--label", "tier=web", "busybox:test", "true"}).exit_code ==
      0);
  CHECK(cli.run({"inspect", "--format", "{{json .Config.Labels}}", "l1"}).out ==
        "{\"owner\":\"flag\",\"solo\":\"\",\"tier\":\"db\"}\n");
  CHECK(cli.run({"ps", "-a", "--filter", "label=tier=db", "--format", "{{.Names}}"}).out == "l1\n");
  // Both were created within the same second: their order is not defined.
  CHECK(
      sorted_lines(cli.run({"ps", "-a", "--filter", "label=tier", "--format", "{{.Names}}"}).out) ==
      "l1\nl2\n");
  CHECK(
      cli.run({"ps", "-a", "-f", "label=tier", "-f", "label=solo", "--format", "{{.Names}}"}).out ==
      "l1\n");
  CHECK(
      sorted_lines(
          cli.run({"ps", "--filter", "status=exited", "--format", "{{.Names}} {{.Labels}}"}).out) ==
      "l1 owner=flag,solo=,tier=db\nl2 tier=web\n");
  r = cli.run({"ps", "--filter", "colour=red"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: invalid filter 'colour'\n");
}

}  // namespace imgbuild::containers::testing
