// Device access control (runtime/device_policy.h): a container opens only Docker's default
// nodes, whatever nodes it makes (mknod itself is allowed, as in Docker) or its image ships.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "runtime_fixture.h"

namespace imgbuild::runtime {
using testing::busybox_rootfs;
using testing::cannot_run;
using testing::sh;

TEST_CASE("a container cannot open devices it was not given", "[integration]") {
  if (cannot_run()) return;
  // Each line: busybox's error for the open. A loop device, a raw disk, the kernel log, kvm, fuse
  // and memory: every one EPERM.
  auto o = sh(busybox_rootfs(),
              "mknod /dev/loop b 7 0 && (: < /dev/loop) 2>&1; "
              "mknod /tmp/disk b 8 0 && (echo x > /tmp/disk) 2>&1; "
              "mknod /dev/kmsg c 1 11 && (echo hi > /dev/kmsg) 2>&1; "
              "mknod /dev/kvm c 10 232 && cat /dev/kvm 2>&1; "
              "mknod /dev/fuse c 10 229 && cat /dev/fuse 2>&1; "
              "mknod /tmp/mem c 1 1 && head -c1 /tmp/mem 2>&1; "
              "mknod /dev/sda b 8 0 && head -c1 /dev/sda 2>&1");
  CHECK(o.out ==
        "/bin/sh: can't open /dev/loop: Operation not permitted\n"
        "/bin/sh: can't create /tmp/disk: Operation not permitted\n"
        "/bin/sh: can't create /dev/kmsg: Operation not permitted\n"
        "cat: can't open '/dev/kvm': Operation not permitted\n"
        "cat: can't open '/dev/fuse': Operation not permitted\n"
        "head: /tmp/mem: Operation not permitted\n"
        "head: /dev/sda: Operation not permitted\n");
}

TEST_CASE("Docker's default device nodes work", "[integration]") {
  if (cannot_run()) return;
  auto o = sh(busybox_rootfs(),
              "echo x > /dev/null && head -c 3 /dev/zero | wc -c && head -c 4 /dev/random | wc -c "
              "&& head -c 5 /dev/urandom | wc -c && (echo x > /dev/full) 2>&1; "
              "exec 3<>/dev/ptmx && echo ptmx; "
              // No controlling terminal: ENXIO from the tty driver, not EPERM from the policy.
              "(: < /dev/tty) 2>&1");
  CHECK(o.out ==
        "3\n4\n5\n"
        "sh: write error: No space left on device\n"
        "ptmx\n"
        "/bin/sh: can't open /dev/tty: No such device or address\n");
}

TEST_CASE("a device node shipped in the image cannot be opened", "[integration]") {
  if (cannot_run()) return;
  std::string root = busybox_rootfs(true);
  // What a hostile layer can carry (layers keep device nodes when extracted as root).
  REQUIRE(::mknod((root + "/loop0").c_str(), S_IFBLK | 0666, makedev(7, 0)) == 0);
  REQUIRE(::mknod((root + "/kmsg").c_str(), S_IFCHR | 0666, makedev(1, 11)) == 0);
  REQUIRE(::mknod((root + "/null2").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
  auto o = sh(root, "head -c1 /loop0 2>&1; head -c1 /kmsg 2>&1; echo x > /null2 && echo null-ok");
  CHECK(o.out ==
        "head: /loop0: Operation not permitted\n"
        "head: /kmsg: Operation not permitted\n"
        "null-ok\n");
}

}  // namespace imgbuild::runtime
