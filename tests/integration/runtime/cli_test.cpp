// `imgbuild run`, `ps`, `logs`, `stop`, `rm` end to end: a busybox image imported into a fresh
// store, containers on imgfs mounts, the real binary.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <thread>

#include "base/fs.h"
#include "base/subprocess.h"
#include "runtime_fixture.h"
#include "tests/support/imgbuild_cli.h"

namespace imgbuild::runtime {
namespace {

struct Cli : imgbuild::testing::ImgbuildCli {
  Cli() : ImgbuildCli("imgbuild-cli-") {}
  std::vector<std::string> container_dirs() const {
    auto r = run_process({"ls", root + "/containers"});
    std::vector<std::string> out;
    std::string cur;
    for (char c : r ? r->out : "") {
      if (c == '\n') {
        out.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    return out;
  }
};

bool mounted_under(const std::string& dir) {
  auto info = fs::read_file("/proc/self/mountinfo");
  return info && info->find(" " + dir) != std::string::npos;
}

bool any_cgroup_left(const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    auto r = run_process({"find", "/sys/fs/cgroup", "-name", "imgbuild-" + id});
    if (!r || !r->out.empty()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("run --rm: output, exit code, and nothing left behind", "[integration]") {
  if (testing::cannot_run()) return;
  Cli cli;
  auto r = cli.run({"run", "--rm", "--hostname", "box", "busybox:test", "sh", "-c",
                    "echo hi; hostname; echo $$; exit 3"});
  CHECK(r.out == "hi\nbox\n1\n");
  CHECK(r.err == "");
  CHECK(r.exit_code == 3);
  CHECK(cli.container_dirs().empty());
  CHECK_FALSE(mounted_under(cli.root));
}

TEST_CASE("run: flags as Docker's", "[integration]") {
  if (testing::cannot_run()) return;
  Cli cli;
  REQUIRE(fs::write_file_atomic(cli.dir.path() + "/env", "# comment\nFROM_FILE=yes\n\nB=file\n"));
  auto r = cli.run({"run", "--rm", "-e", "A=1", "--env-file", cli.dir.path() + "/env", "-e", "B=2",
                    "-w", "/work", "-u", "app", "busybox:test", "sh", "-c",
                    "echo $A $B $FROM_FILE; pwd; id -un; echo $HOME"});
  CHECK(r.out == "1 2 yes\n/work\napp\n/home/app\n");
  r = cli.run({"run", "--rm", "--entrypoint", "echo", "busybox:test", "a", "b"});
  CHECK(r.out == "a b\n");
  r = cli.run({"run", "--rm", "-i", "busybox:test", "cat"}, "from stdin\n");
  CHECK(r.out == "from stdin\n");
  r = cli.run({"run", "--rm", "busybox:test", "cat"}, "ignored\n");
  CHECK(r.out == "");
  r = cli.run({"run", "--rm", "--network", "none", "busybox:test", "ls", "/sys/class/net"});
  CHECK(r.out == "lo\n");
  // Docker's default, bridge: an own namespace with outbound access (slirp4netns's tap0).
  r = cli.run({"run", "--rm", "busybox:test", "sh", "-c", "ls /sys/class/net; ip route"});
  CHECK(r.out ==
        "lo\ntap0\ndefault via 10.0.2.2 dev tap0 \n"
        "10.0.2.0/24 dev tap0 scope link  src 10.0.2.100 \n");
  r = cli.run({"run", "--rm", "--read-only", "busybox:test", "touch", "/x"});
  CHECK(r.err == "touch: /x: Read-only file system\n");
  CHECK(r.exit_code == 1);
  auto host = cli.dir.path() + "/vol";
  REQUIRE(fs::make_dirs(host));
  r = cli.run(
      {"run", "--rm", "-v", host + ":/data", "busybox:test", "sh", "-c", "echo v > /data/f"});
  CHECK(fs::read_file(host + "/f") == std::string("v\n"));
  r = cli.run({"run", "--rm", "--memory", "32m", "busybox:test", "sh", "-c",
               "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"});
  CHECK(r.exit_code == 137);
}

TEST_CASE("run: exit codes and errors", "[integration]") {
  if (testing::cannot_run()) return;
  Cli cli;
  auto r = cli.run({"run", "--rm", "busybox:test", "nosuch"});
  CHECK(r.exit_code == 127);
  CHECK(r.err == "imgbuild: exec: \"nosuch\": executable file not found in $PATH\n");
  r = cli.run({"run", "--rm", "busybox:test", "/etc/passwd"});
  CHECK(r.exit_code == 126);
  CHECK(r.err == "imgbuild: exec: \"/etc/passwd\": permission denied\n");
  r = cli.run({"run", "--rm", "--network", "mynet", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err == "imgbuild: network mynet not found (supported: bridge, none, host)\n");
  // Without --pull never, a missing image is pulled (tests/integration/containers/pull_test.cpp).
  r = cli.run({"run", "--rm", "--pull", "never", "nosuchimage", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err == "imgbuild: No such image: nosuchimage:latest\n");
  r = cli.run({"run", "--rm", "-u", "ghost", "busybox:test", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err == "imgbuild: unable to find user ghost: no matching entries in passwd file\n");
  r = cli.run({"run", "--rm", "busybox:test", "sh", "-c", "kill -9 $$"});
  CHECK(r.exit_code == 0);  // pid 1 ignores even SIGKILL from inside its namespace
  CHECK(cli.container_dirs().empty());
}

TEST_CASE("a container's writes go to its upper, never to the image's layers", "[integration]") {
  if (testing::cannot_run()) return;
  Cli cli;
  auto r = cli.run({"run", "--name", "w", "busybox:test", "sh", "-c",
                    "echo new > /etc/newfile; rm /bin/ls; echo x >> /etc/passwd"});
  REQUIRE(r.exit_code == 0);
  auto dirs = cli.container_dirs();
  REQUIRE(dirs.size() == 1);
  std::string upper = cli.root + "/containers/" + dirs[0] + "/upper";
  CHECK(fs::read_file(upper + "/etc/newfile") == std::string("new\n"));
  CHECK(fs::exists(upper + "/bin/.wh.ls"));
  // The runtime's own mount targets left no trace in the upper.
  CHECK_FALSE(fs::exists(upper + "/etc/hosts"));
  CHECK_FALSE(fs::exists(upper + "/proc"));
  auto layers = run_process({"sh", "-c",
                             "ls -d " + cli.root + "/layers/sha256/*/bin/ls " + cli.root +
                                 "/layers/sha256/*/etc/newfile 2>/dev/null"});
  REQUIRE(layers);
  CHECK(layers->out.find("/bin/ls") != std::string::npos);
  CHECK(layers->out.find("newfile") == std::string::npos);
  r = cli.run({"rm", "w"});
  CHECK(r.out == "w\n");
  CHECK(cli.container_dirs().empty());
}

TEST_CASE("detached lifecycle: run -d, ps, logs, stop, rm", "[integration]") {
  if (testing::cannot_run()) return;
  Cli cli;
  auto r = cli.run({"run", "-d", "--name", "web", "busybox:test", "sh", "-c",
                    "echo started; trap 'echo bye; exit 7' TERM; while :; do sleep 0.1; done"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(std::regex_match(r.out, std::regex("[0-9a-f]{64}\n")));
  std::string id = r.out.substr(0, 64);

  auto ps = cli.run({"ps"});
  CHECK(std::regex_search(
      ps.out, std::regex("^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n")));
  CHECK(std::regex_search(
      ps.out, std::regex(id.substr(0, 12) +
                         " +busybox:test +\"sh -c 'echo started…\" +.* ago +Up .* +web\n")));
  for (int i = 0; i < 100 && cli.run({"logs", "web"}).out.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(cli.run({"logs", "web"}).out == "started\n");

  r = cli.run({"rm", "web"});
  CHECK(r.exit_code == 1);
  CHECK(r.err ==
        "imgbuild: cannot remove container \"web\": container is running: stop the container "
        "before removing or force remove\n");

  r = cli.run({"stop", "-t", "5", "web"});
  CHECK(r.out == "web\n");
  CHECK(cli.run({"logs", "web"}).out == "started\nbye\n");
  CHECK(cli.run({"ps", "-q"}).out == "");
  ps = cli.run({"ps", "-a"});
  CHECK(std::regex_search(ps.out, std::regex("Exited \\(7\\) .* ago +web\n")));
  CHECK_FALSE(mounted_under(cli.root));

  r = cli.run({"rm", "web"});
  CHECK(r.out == "web\n");
  CHECK(cli.container_dirs().empty());
  CHECK_FALSE(any_cgroup_left({id}));

  // stop escalates to SIGKILL when the process ignores the signal; rm -f kills.
  r = cli.run({"run", "-d", "--name", "stubborn", "busybox:test", "sleep", "100"});
  REQUIRE(r.exit_code == 0);
  auto t0 = std::chrono::steady_clock::now();
  r = cli.run({"stop", "-t", "1", "stubborn"});
  CHECK(r.out == "stubborn\n");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  CHECK(std::regex_search(cli.run({"ps", "-a"}).out, std::regex("Exited \\(137\\)")));
  r = cli.run({"run", "-d", "--rm", "--name", "gone", "busybox:test", "sleep", "100"});
  REQUIRE(r.exit_code == 0);
  r = cli.run({"rm", "-f", "gone", "stubborn"});
  CHECK(r.out == "gone\nstubborn\n");
  CHECK(cli.container_dirs().empty());
  CHECK_FALSE(mounted_under(cli.root));
}

TEST_CASE("rm cleans up after an imgbuild that was killed", "[integration]") {
  if (testing::cannot_run()) return;
  Cli cli;
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(IMGBUILD_BINARY, "imgbuild", "--root", cli.root.c_str(), "run", "--name", "k",
            "busybox:test", "sleep", "100", nullptr);
    ::_exit(127);
  }
  Child child(pid);
  for (int i = 0; i < 200 && cli.run({"ps", "-q"}).out.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto ids = cli.run({"ps", "-q", "--no-trunc"}).out;
  REQUIRE(ids.size() == 65);
  child.signal(SIGKILL);
  (void)child.wait();
  auto ps = cli.run({"ps", "-a"});
  CHECK(ps.out.find("monitor gone") != std::string::npos);
  auto r = cli.run({"rm", "k"});
  CHECK(r.out == "k\n");
  CHECK(cli.container_dirs().empty());
  CHECK_FALSE(mounted_under(cli.root));
  CHECK_FALSE(any_cgroup_left({ids.substr(0, 64)}));
}

}  // namespace imgbuild::runtime
