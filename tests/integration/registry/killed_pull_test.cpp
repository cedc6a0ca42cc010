// A pull killed with SIGKILL mid-download leaves staging in tmp/ (a partial blob, a partial
// unpack); the next command that opens the store removes it, even while the killed process is a
// zombie its parent has not reaped yet (it owns nothing any more), and a later pull succeeds.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/support/registry_server.h"
#include "tests/support/skip.h"

using namespace imgbuild;
using namespace imgbuild::testing;

namespace {

ProcessResult ib(const std::string& root, std::vector<std::string> args) {
  std::vector<std::string> argv{IMGBUILD_BINARY, "--root", root};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(argv);
  REQUIRE(r);
  return *r;
}

std::string listing(const std::string& dir) {
  auto r = run_process({"ls", "-A", dir});
  REQUIRE(r);
  return r->out;
}

}  // namespace

TEST_CASE("staging of a pull killed mid-download is removed by the next command") {
  if (!RegistryServer::available()) {
    ::imgbuild::testing::skip("docker-registry not installed (scripts/install-deps.sh test)");
    return;
  }
  auto& reg = RegistryServer::shared(RegistryServer::Auth::kNone);
  auto dir = fs::TempDir::create("/tmp", "imgbuild-killed-pull-");
  REQUIRE(dir);
  // A 48 MiB incompressible layer: long enough on loopback to be caught mid-download.
  std::string tree = dir->path() + "/tree";
  REQUIRE(fs::make_dirs(tree));
  REQUIRE(run_process({"sh", "-c", "head -c 50331648 /dev/urandom > " + tree + "/big"}));
  std::string tar = dir->path() + "/layer.tar";
  REQUIRE(run_process({"tar", "-C", tree, "-cf", tar, "."}));
  std::string src = dir->path() + "/src", dst = dir->path() + "/dst";
  std::string ref = reg.host() + "/killed-pull:1";
  REQUIRE(ib(src, {"import", tar, ref}).exit_code == 0);
  auto pushed = ib(src, {"push", ref});
  INFO(pushed.err);
  REQUIRE(pushed.exit_code == 0);

  // Started by fork+exec so that this test, its parent, decides when it is reaped.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(IMGBUILD_BINARY, IMGBUILD_BINARY, "--root", dst.c_str(), "pull", ref.c_str(), nullptr);
    ::_exit(127);
  }
  bool staging = false;
  for (int i = 0; i < 2000 && !staging; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    staging = listing(dst + "/tmp").find("-blob-") != std::string::npos;
  }
  ::kill(pid, SIGKILL);
  REQUIRE(staging);
  // Not reaped yet: a zombie.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(listing(dst + "/tmp") != "");
  auto images = ib(dst, {"images", "-q"});
  CHECK(images.exit_code == 0);
  CHECK(images.err == "");
  CHECK(listing(dst + "/tmp") == "");
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto pulled = ib(dst, {"pull", ref});
  INFO(pulled.err);
  CHECK(pulled.exit_code == 0);
  CHECK(listing(dst + "/tmp") == "");
}
