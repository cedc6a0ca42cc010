// Container lifecycle: run --init, run --restart, create and start, health checks.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "containers_fixture.h"

namespace imgbuild::containers::testing {

TEST_CASE("run --init: pid 1 is an init that forwards SIGTERM and reaps zombies", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  // The subshell's sleep is orphaned to pid 1 and becomes a zombie when it exits, unless reaped.
  cli.run_detached(
      {"--init", "--name", "i", "busybox:test", "sh", "-c", "(sleep 0.2 &); exec sleep 100"});
  std::string ps;
  CHECK(eventually([&] {
    ps = cli.run({"exec", "i", "ps", "-o", "pid,stat,args"}).out;
    return ps.find(" sleep 0.2\n") == std::string::npos && ps.find(" Z ") == std::string::npos;
  }));
  INFO(ps);
  CHECK(ps.find("\n    1 S    init -- sh -c (sleep 0.2 &); exec sleep 100\n") != std::string::npos);
  CHECK(ps.find("sleep 100\n") != std::string::npos);
  CHECK(trimmed(cli.run({"inspect", "-f", "{{.HostConfig.Init}}", "i"}).out) == "true");

  // Without the init, sh as pid 1 ignores SIGTERM and only the timeout's SIGKILL would stop it.
  cli.run_detached({"--init", "--name", "s", "busybox:test", "sh", "-c", "sleep 100"});
  auto start = std::chrono::steady_clock::now();
  CHECK(cli.run({"stop", "s"}).out == "s\n");
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < std::chrono::seconds(5));
  WARN("stop of an --init container took "
       << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(cli.run({"wait", "s"}).out == "143\n");

  // The init exits with the command's status, 128+N after signal N; exec errors are Docker's.
  CHECK(cli.run({"run", "--rm", "--init", "busybox:test", "sh", "-c", "exit 3"}).exit_code == 3);
  CHECK(cli.run({"run", "--rm", "--init", "busybox:test", "sh", "-c", "kill -9 $$"}).exit_code ==
        137);
  auto r = cli.run({"run", "--rm", "--init", "busybox:test", "no-such-command"});
  CHECK(r.exit_code == 127);
  CHECK(r.err.find("\"no-such-command\": executable file not found in $PATH") != std::string::npos);
}

TEST_CASE("run --restart on-failure:3 restarts exactly three times", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  cli.run_detached(
      {"--restart", "on-failure:3", "--name", "f", "busybox:test", "sh", "-c", "echo run; exit 1"});
  CHECK(cli.run({"wait", "f"}).out == "1\n");
  CHECK(trimmed(cli.run({"inspect", "-f",
                         "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}} "
                         "{{.HostConfig.RestartPolicy.Name}} "
                         "{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
                         "f"})
                    .out) == "3 exited 1 on-failure 3");
  CHECK(cli.run({"logs", "f"}).out == "run\nrun\nrun\nrun\n");

  auto r = cli.run({"run", "--rm", "--restart", "always", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err == "imgbuild: Conflicting options: --restart and --rm\n");
  r = cli.run({"run", "-d", "--restart", "sometimes", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err ==
        "imgbuild: invalid restart policy: unknown policy 'sometimes'; use one of 'no', "
        "'always', 'on-failure', or 'unless-stopped'\n");
}

TEST_CASE("stop ends --restart always, also while the container waits to restart",
          "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  // Exits at once: the monitor's backoff keeps it "Restarting (0)" between runs.
  cli.run_detached({"--restart", "always", "--name", "a", "busybox:test", "true"});
  std::string status;
  CHECK(eventually([&] {
    status = cli.run({"ps", "--format", "{{.Names}} {{.Status}}"}).out;
    return status.starts_with("a Restarting (0) ");
  }));
  INFO(status);
  INFO(cli.run({"logs", "a"}).out);
  CHECK(cli.run({"stop", "a"}).out == "a\n");
  CHECK(cli.run({"ps", "-q"}).out.empty());
  auto count = trimmed(cli.run({"inspect", "-f", "{{.RestartCount}}", "a"}).out);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(trimmed(cli.run({"inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "a"}).out) ==
        count + " exited");

  // A long-running one: stop signals it, and it is not restarted.
  cli.run_detached(
      {"--restart", "always", "--init", "--name", "b", "busybox:test", "sleep", "100"});
  CHECK(cli.run({"stop", "b"}).out == "b\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(trimmed(cli.run({"inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "b"}).out) ==
        "0 exited");
}

TEST_CASE("create leaves a created container; start runs it again with its layer",
          "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  auto created = cli.run({"create", "--name", "c", "busybox:test", "sh", "-c",
                          "echo hello; cat /marker 2>/dev/null; echo x > /marker; exit 4"});
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  CHECK(created.out.size() == 65);
  CHECK(cli.run({"ps", "-a", "--format", "{{.Names}} {{.Status}} {{.State}}"}).out ==
        "c Created created\n");
  CHECK(cli.run({"ps", "-q"}).out.empty());

  // -a: attached, the container's output and exit code.
  auto attached = cli.run({"start", "-a", "c"});
  CHECK(attached.out == "hello\n");
  CHECK(attached.exit_code == 4);
  // Detached: prints the name; the upper layer kept the marker of the first run.
  CHECK(cli.run({"start", "c"}).out == "c\n");
  CHECK(cli.run({"wait", "c"}).out == "4\n");
  CHECK(cli.run({"logs", "c"}).out == "hello\nx\n");

  auto r = cli.run({"start", "nope"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: No such container: nope\n");
  r = cli.run({"start", "-a", "c", "c"});
  CHECK(r.err == "imgbuild: you cannot start and attach multiple containers at once\n");
}

TEST_CASE("health checks: --health-* flags and the image's HEALTHCHECK, in ps and inspect",
          "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  auto ps_status = [&] {
    return trimmed(cli.run({"ps", "--format", "{{.Names}} {{.Status}}"}).out);
  };
  cli.run_detached({"--name", "h", "--health-cmd", "test -f /ok", "--health-interval", "200ms",
                    "--health-retries", "2", "busybox:test", "sleep", "100"});
  std::string seen = ps_status();
  CHECK(seen.starts_with("h Up "));
  CHECK(seen.ends_with(" (health: starting)"));
  CHECK(eventually([&] { return (seen = ps_status()).ends_with(" (unhealthy)"); }));
  INFO(seen);
  REQUIRE(cli.run({"exec", "h", "touch", "/ok"}).exit_code == 0);
  CHECK(eventually([&] { return (seen = ps_status()).ends_with(" (healthy)"); }));
  CHECK(trimmed(cli.run({"inspect", "-f",
                         "{{.State.Health.Status}} {{.State.Health.FailingStreak}} "
                         "{{.Config.Healthcheck.Test}}",
                         "h"})
                    .out) == "healthy 0 [CMD-SHELL test -f /ok]");
  REQUIRE(cli.run({"rm", "-f", "h"}).exit_code == 0);

  // The image's HEALTHCHECK; a probe past its timeout is killed and counts as a failure.
  std::string context = cli.dir.path() + "/hc";
  REQUIRE(fs::make_dirs(context));
  REQUIRE(fs::write_file_atomic(
      context + "/Dockerfile",
      "FROM busybox:test\nHEALTHCHECK --interval=200ms --timeout=300ms --retries=1 CMD sleep 5\n"));
  auto built = cli.run({"build", "-q", "-t", "hc:1", context});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  cli.run_detached({"--name", "t", "hc:1", "sleep", "100"});
  CHECK(eventually([&] { return ps_status().ends_with(" (unhealthy)"); }));
  CHECK(trimmed(cli.run({"inspect", "-f",
                         "{{(index .State.Health.Log 0).ExitCode}} "
                         "{{(index .State.Health.Log 0).Output}}",
                         "t"})
                    .out) == "-1 Health check exceeded timeout (300ms)");
  REQUIRE(cli.run({"rm", "-f", "t"}).exit_code == 0);
  cli.run_detached({"--name", "u", "--no-healthcheck", "hc:1", "sleep", "100"});
  seen = ps_status();
  CHECK(seen.starts_with("u Up "));
  CHECK(seen.find('(') == std::string::npos);
  CHECK(cli.run({"inspect", "-f", "{{.State.Health}}", "u"}).out == "<no value>\n");
  auto r = cli.run({"run", "--no-healthcheck", "--health-retries", "2", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err == "imgbuild: --no-healthcheck conflicts with --health-* options\n");
}

}  // namespace imgbuild::containers::testing
