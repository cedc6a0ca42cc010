// `run` flags of the engine: --tmpfs, --stop-signal, --stop-timeout.
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
