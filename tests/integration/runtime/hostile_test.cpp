// Hostile roots: symlinked /dev, /proc, /etc/hosts and volume targets pointing at the host must
// not make any mount land outside the root; and the runtime leaves no trace in the root.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/sys.h"
#include "runtime_fixture.h"

namespace imgbuild::runtime {
using testing::busybox_rootfs;
using testing::cannot_run;
using testing::sh;

namespace {
// Every mount point under dir in this mount namespace (there must be none after a container).
bool host_has_mount_under(const std::string& dir) {
  auto info = fs::read_file("/proc/self/mountinfo");
  return info && info->find(" " + dir) != std::string::npos;
}
}  // namespace

TEST_CASE("symlinked /dev, /proc, /sys and /etc/hosts stay inside the root", "[integration]") {
  if (cannot_run()) return;
  std::string root = busybox_rootfs(true);
  auto host = fs::TempDir::create();
  REQUIRE(host);
  for (const char* d : {"dev", "proc", "sys"}) {
    REQUIRE(fs::make_dirs(host->path() + "/" + d));
    REQUIRE(fs::remove_tree(root + "/" + d));
    REQUIRE(sys::symlink_at(host->path() + "/" + d, AT_FDCWD, root + "/" + d));
  }
  REQUIRE(fs::write_file_atomic(host->path() + "/hosts", "host file\n"));
  REQUIRE(sys::symlink_at(host->path() + "/hosts", AT_FDCWD, root + "/etc/hosts"));
  REQUIRE(sys::symlink_at("../../../../../../" + host->path() + "/hosts", AT_FDCWD,
                          root + "/etc/resolv.conf"));

  auto o = sh(root, "cat /proc/1/comm; ls /dev/null; echo hacked > /etc/hosts; echo ok");
  CHECK(o.error == "");
  CHECK(o.out == "sh\n/dev/null\nok\n");
  // The mounts landed on the symlinks' targets inside the root, created there and removed again.
  CHECK(fs::read_file(host->path() + "/hosts") == std::string("host file\n"));
  for (const char* d : {"dev", "proc", "sys"}) {
    CHECK(fs::exists(host->path() + "/" + d + "/null") == false);
    CHECK(sys::readlink_at(AT_FDCWD, root + "/" + d).has_value());
  }
  CHECK_FALSE(fs::exists(root + host->path()));
  CHECK_FALSE(host_has_mount_under(host->path()));
  CHECK_FALSE(host_has_mount_under(root));
}

TEST_CASE("a symlinked volume target lands inside the root", "[integration]") {
  if (cannot_run()) return;
  std::string root = busybox_rootfs(true);
  auto host = fs::TempDir::create();
  REQUIRE(host);
  REQUIRE(fs::make_dirs(host->path() + "/victim"));
  REQUIRE(fs::make_dirs(host->path() + "/vol"));
  REQUIRE(sys::symlink_at(host->path() + "/victim", AT_FDCWD, root + "/data"));
  ProcessSpec spec;
  spec.mounts = {{host->path() + "/vol", "/data", false}};
  auto o = sh(root, "echo x > /data/file; echo ok", spec);
  CHECK(o.out == "ok\n");
  CHECK(fs::exists(host->path() + "/vol/file"));
  CHECK_FALSE(fs::exists(host->path() + "/victim/file"));
}

TEST_CASE("the runtime leaves no trace in the root", "[integration]") {
  if (cannot_run()) return;
  std::string root = busybox_rootfs(true);
  for (const char* d : {"dev", "proc", "sys"}) REQUIRE(fs::remove_tree(root + "/" + d));
  auto host = fs::TempDir::create();
  REQUIRE(host);
  ProcessSpec spec;
  spec.mounts = {{host->path(), "/mnt/deep/vol", false}};
  auto o = sh(root, "ls -d /proc/1 /mnt/deep/vol; touch /made", spec);
  CHECK(o.out == "/mnt/deep/vol\n/proc/1\n");
  for (const char* p : {"dev", "proc", "sys", "etc/hosts", "etc/resolv.conf", "mnt"}) {
    CHECK_FALSE(fs::exists(root + "/" + p));
  }
  CHECK(fs::exists(root + "/etc/hostname"));  // the image's own file is kept
  CHECK(fs::exists(root + "/made"));
}

}  // namespace imgbuild::runtime
