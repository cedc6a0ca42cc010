// The restart policy outside the detached monitor (foreground run, start -a), rm of a
// restarting container, and run -d --rm's anonymous volumes.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "containers_fixture.h"

namespace imgbuild::containers::testing {

TEST_CASE("run --restart without -d and start -a restart in the foreground", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  auto r = cli.run({"run", "--restart", "on-failure:2", "--name", "fg", "busybox:test", "sh", "-c",
                    "echo run; exit 3"});
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.out == "run\nrun\nrun\n");
  CHECK(trimmed(cli.run({"inspect", "-f", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}",
                         "fg"})
                    .out) == "2 exited 3");

  REQUIRE(cli.run({"create", "--restart", "on-failure:1", "--name", "c", "busybox:test", "sh", "-c",
                   "echo x; exit 2"})
              .exit_code == 0);
  auto attached = cli.run({"start", "-a", "c"});
  CHECK(attached.exit_code == 2);
  CHECK(attached.out == "x\nx\n");
  CHECK(trimmed(cli.run({"inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "c"}).out) ==
        "1 exited");
}

TEST_CASE("a signal to a foreground run --restart always stops it for good", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  std::vector<std::string> args = {IMGBUILD_BINARY, "--root", cli.root, "run", "--restart",
                                   "always",        "--init", "--name", "s",   "busybox:test",
                                   "sleep",         "100"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Spawned, not run to completion: the test signals it while the container runs.
  posix_spawn_file_actions_t quiet;
  REQUIRE(::posix_spawn_file_actions_init(&quiet) == 0);
  for (int fd : {0, 1, 2}) ::posix_spawn_file_actions_addopen(&quiet, fd, "/dev/null", O_RDWR, 0);
  pid_t pid = -1;
  int spawned = ::posix_spawn(&pid, IMGBUILD_BINARY, &quiet, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&quiet);
  REQUIRE(spawned == 0);
  Child run(pid);
  // Running (not just recorded): imgbuild forwards signals from then on.
  REQUIRE(eventually([&] { return cli.run({"exec", "s", "true"}).exit_code == 0; }));
  ::kill(pid, SIGTERM);  // forwarded to the container: a manual stop, as Docker's kill
  int status = 0;
  CHECK(eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }));
  run.release();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);
  CHECK(trimmed(cli.run({"inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "s"}).out) ==
        "0 exited");
}

TEST_CASE("rm of a restarting container says Docker's message; rm -f removes it", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  std::string id = cli.run_detached({"--restart", "always", "--name", "r", "busybox:test", "true"});
  // Between two runs it is restarting; while one runs, rm says it is running: poll for the first.
  ProcessResult refused;
  CHECK(eventually([&] {
    refused = cli.run({"rm", "r"});
    return refused.err.find("restarting") != std::string::npos;
  }));
  CHECK(refused.exit_code == 1);
  CHECK(refused.err == "imgbuild: You cannot remove a restarting container " + id +
                           ". Stop the container before attempting removal or force remove\n");
  auto forced = cli.run({"rm", "-f", "r"});
  INFO(forced.err);
  CHECK(forced.exit_code == 0);
  CHECK(forced.out == "r\n");
  CHECK(cli.run({"ps", "-a", "-q"}).out.empty());
}

TEST_CASE("run -d --rm removes the container's anonymous volumes when it exits", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  cli.run_detached({"--rm", "-v", "/data", "-v", "keep:/keep", "--name", "v", "busybox:test", "sh",
                    "-c", "echo x > /data/f; sleep 0.5"});
  std::string volumes = cli.run({"volume", "ls", "-q"}).out;
  CHECK(volumes.find("keep\n") != std::string::npos);
  CHECK(std::count(volumes.begin(), volumes.end(), '\n') == 2);
  CHECK(eventually([&] { return cli.run({"ps", "-a", "-q"}).out.empty(); }));
  CHECK(eventually([&] { return cli.run({"volume", "ls", "-q"}).out == "keep\n"; }));
}

}  // namespace imgbuild::containers::testing
