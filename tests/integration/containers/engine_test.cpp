// The engine commands around running containers: kill, wait, rename, top, diff, commit, cp and
// container prune, end to end with the real binary.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>

#include "containers_fixture.h"

namespace imgbuild::containers::testing {

TEST_CASE("kill, wait, rename, top", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  std::string id = cli.run_detached({"--name", "sleeper", "busybox:test", "sleep", "100"});
  auto r = cli.run({"top", "sleeper"});
  INFO(r.err);
  CHECK(std::regex_search(r.out, std::regex("^UID +PID +PPID +C +STIME +TTY +TIME +CMD\n")));
  CHECK(std::regex_search(r.out, std::regex("\nroot +[0-9]+ +[0-9]+ .* sleep 100\n")));

  r = cli.run({"rename", "sleeper", "napper"});
  CHECK(r.exit_code == 0);
  CHECK(cli.run({"top", "sleeper"}).err == "imgbuild: No such container: sleeper\n");
  std::string other = cli.run_detached({"--name", "other", "busybox:test", "sleep", "100"});
  r = cli.run({"rename", "other", "napper"});
  CHECK(r.exit_code == 1);
  CHECK(r.err ==
        "imgbuild: Error when allocating new name: Conflict. The container name "
        "\"/napper\" is already in use by container \"" +
            id +
            "\". You have to remove (or rename) that container to be able to "
            "reuse that name.\n");

  r = cli.run({"kill", "-s", "KILL", "napper"});
  CHECK(r.out == "napper\n");
  r = cli.run({"wait", "napper"});
  CHECK(r.out == "137\n");
  // The monitor's exit record kept the new name.
  CHECK(cli.run({"wait", "napper"}).out == "137\n");
  r = cli.run({"kill", "napper"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: cannot kill container: napper: container " + id + " is not running\n");
}

TEST_CASE("diff lists the upper; commit makes it a layer that run shows", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  auto r =
      cli.run({"run", "--name", "changer", "busybox:test", "sh", "-c",
               "echo committed > /hello; rm /bin/ls; mkdir -p /new/sub; echo x >> /etc/group"});
  REQUIRE(r.exit_code == 0);
  r = cli.run({"diff", "changer"});
  CHECK(r.out == "C /bin\nD /bin/ls\nC /etc\nC /etc/group\nA /hello\nA /new\nA /new/sub\n");
  r = cli.run({"commit", "-m", "by test", "changer", "committed:1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(std::regex_match(r.out, std::regex("sha256:[0-9a-f]{64}\n")));
  r = cli.run(
      {"run", "--rm", "committed:1", "sh", "-c", "cat /hello; ls /bin/ls; tail -1 /etc/group"});
  CHECK(r.out == "committed\nx\n");
  CHECK(r.err == "ls: /bin/ls: No such file or directory\n");
  // The base image's config is kept, with the commit in the history.
  auto base = cli.run({"inspect", "busybox:test"}).out;
  auto committed = cli.run({"inspect", "committed:1"}).out;
  std::smatch m;
  REQUIRE(std::regex_search(base, m, std::regex("\n        \"Config\": [^\n]*\n")));
  CHECK(committed.find(m.str()) != std::string::npos);
  CHECK(committed.find("\"comment\": \"by test\"") != std::string::npos);
}

TEST_CASE("cp both ways, tar streams, and symlinks never reach the host", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  std::string unique = "imgbuild-cp-test-" + std::to_string(::getpid());
  auto r = cli.run({"run", "--name", "evil", "busybox:test", "sh", "-c",
                    "ln -s /etc/shadow /leak; ln -s /etc /etcdir; ln -s ../../../../etc /up; "
                    "mkdir /data; echo inside > /data/f"});
  REQUIRE(r.exit_code == 0);
  std::string host = cli.dir.path();

  // Out of a stopped container: a file, a directory, a tar stream.
  r = cli.run({"cp", "evil:/data/f", host + "/f"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(fs::read_file(host + "/f") == std::string("inside\n"));
  REQUIRE(fs::make_dirs(host + "/into"));
  CHECK(cli.run({"cp", "evil:/data", host + "/into"}).exit_code == 0);
  CHECK(fs::read_file(host + "/into/data/f") == std::string("inside\n"));
  r = cli.run({"cp", "evil:/data", "-"});
  auto listing = run_process({"tar", "-t"}, ProcessOptions{.stdin_data = r.out});
  REQUIRE(listing);
  CHECK(listing->out == "data/\ndata/f\n");

  // Symlinks: copied as links; followed (-L, or on the way) only inside the container's root.
  r = cli.run({"cp", "evil:/leak", "-"});
  listing = run_process({"tar", "-tv"}, ProcessOptions{.stdin_data = r.out});
  REQUIRE(listing);
  CHECK(listing->out.find("leak -> /etc/shadow") != std::string::npos);
  for (const char* src : {"evil:/etcdir/shadow", "evil:/up/shadow"}) {
    r = cli.run({"cp", src, host + "/stolen"});
    CHECK(r.exit_code != 0);
    CHECK_FALSE(fs::exists(host + "/stolen"));
  }
  r = cli.run({"cp", "-L", "evil:/leak", host + "/stolen"});
  CHECK(r.exit_code != 0);
  CHECK_FALSE(fs::exists(host + "/stolen"));
  r = cli.run({"cp", "evil:/up/passwd", host + "/passwd"});
  CHECK(r.exit_code == 0);
  CHECK(fs::read_file(host + "/passwd") ==
        cli.run({"run", "--rm", "busybox:test", "cat", "/etc/passwd"}).out);

  // Into the container, through its symlinks: lands in its root, never in the host's /etc.
  REQUIRE(fs::write_file_atomic(host + "/" + unique, "payload\n"));
  r = cli.run({"cp", host + "/" + unique, "evil:/up/"});
  CHECK(r.exit_code == 0);
  r = cli.run({"cp", host + "/" + unique, "evil:/etcdir/"});
  CHECK(r.exit_code == 0);
  CHECK_FALSE(fs::exists("/etc/" + unique));
  r = cli.run({"cp", "evil:/etc/" + unique, "-"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("payload") != std::string::npos);
  // A tar stream into a running container.
  cli.run_detached({"--name", "live", "busybox:test", "sleep", "100"});
  auto tar = run_process({"tar", "-c", "-C", host, "f"});
  REQUIRE(tar);
  r = cli.run({"cp", "-", "live:/tmp"}, tar->out);
  CHECK(r.exit_code == 0);
  CHECK(cli.run({"exec", "live", "cat", "/tmp/f"}).out == "inside\n");
}

TEST_CASE("container prune removes stopped containers only", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  REQUIRE(cli.run({"run", "--name", "a", "busybox:test", "true"}).exit_code == 0);
  auto stopped = cli.run({"ps", "-aq", "--no-trunc"}).out;
  std::string running = cli.run_detached({"busybox:test", "sleep", "100"});
  auto r = cli.run({"container", "prune", "-f"});
  CHECK(r.out == "Deleted Containers:\n" + stopped + "\nTotal reclaimed space: 0B\n");
  CHECK(cli.run({"ps", "-aq", "--no-trunc"}).out == running + "\n");
  r = cli.run({"container", "prune"}, "n\n");
  CHECK(r.out ==
        "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? "
        "[y/N] ");
}

}  // namespace imgbuild::containers::testing
