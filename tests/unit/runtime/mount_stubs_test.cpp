#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/sys.h"
#include "runtime/safe_path.h"

using namespace imgbuild;

namespace {

struct timespec mtime_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mtim;
}

void set_mtime(const std::string& path, time_t sec) {
  struct timespec times[2] = {{sec, 0}, {sec, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

}  // namespace

TEST_CASE("MountStubs removes its stubs and restores their directories' times", "[runtime]") {
  fs::TempDir root = fs::TempDir::create().value();
  std::string etc = fs::join(root.path(), "etc");
  REQUIRE(fs::make_dirs(etc));
  set_mtime(etc, 1000000);
  set_mtime(root.path(), 2000000);
  UniqueFd rootfd = sys::open(root.path(), O_PATH | O_DIRECTORY).value();
  char* real = ::realpath(root.path().c_str(), nullptr);
  runtime::MountStubs stubs(rootfd.get(), real);
  std::free(real);
  REQUIRE(stubs.ensure("/etc/hosts", runtime::TargetKind::kFile));
  REQUIRE(stubs.ensure("/etc/resolv.conf", runtime::TargetKind::kFile));
  REQUIRE(stubs.ensure("/run/secrets/a", runtime::TargetKind::kFile));
  CHECK(mtime_of(etc).tv_sec != 1000000);

  SECTION("untouched by the container: the times come back") {
    stubs.remove_all(rootfd.get());
    CHECK_FALSE(fs::exists(fs::join(etc, "hosts")));
    CHECK_FALSE(fs::exists(fs::join(root.path(), "run")));
    CHECK(mtime_of(etc).tv_sec == 1000000);
    CHECK(mtime_of(etc).tv_nsec == 0);
    CHECK(mtime_of(root.path()).tv_sec == 2000000);
  }
  SECTION("a directory the container changed keeps its new time") {
    ::usleep(20000);
    int fd = ::open(fs::join(etc, "motd").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    ::close(fd);
    stubs.remove_all(rootfd.get());
    CHECK(fs::exists(fs::join(etc, "motd")));
    CHECK(mtime_of(etc).tv_sec != 1000000);
    CHECK(mtime_of(root.path()).tv_sec == 2000000);
  }
}
