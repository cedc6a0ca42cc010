// Isolation: capabilities, no_new_privs, masked and read-only paths, read-only root, network
// namespace, bind mounts, /dev contents.
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/sys.h"
#include "runtime/seccomp_profile.h"
#include "runtime_fixture.h"

namespace imgbuild::runtime {
using testing::busybox_rootfs;
using testing::cannot_run;
using testing::sh;

TEST_CASE("root keeps Docker's 14 capabilities, other users none, always no_new_privs",
          "[integration]") {
  if (cannot_run()) return;
  auto o = sh(busybox_rootfs(), "grep -E '^(Cap|NoNewPrivs)' /proc/self/status");
  CHECK(o.out ==
        "CapInh:\t0000000000000000\n"
        "CapPrm:\t00000000a80425fb\n"
        "CapEff:\t00000000a80425fb\n"
        "CapBnd:\t00000000a80425fb\n"
        "CapAmb:\t0000000000000000\n"
        "NoNewPrivs:\t1\n");
  ProcessSpec spec;
  spec.uid = 1000;
  spec.gid = 1000;
  o = sh(busybox_rootfs(), "grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status", spec);
  CHECK(o.out ==
        "CapPrm:\t0000000000000000\n"
        "CapEff:\t0000000000000000\n"
        "CapBnd:\t00000000a80425fb\n");
}

TEST_CASE("masked and read-only paths are as in Docker", "[integration]") {
  if (cannot_run()) return;
  auto o = sh(busybox_rootfs(),
              "cat /proc/kcore | wc -c; cat /proc/keys | wc -c; "
              "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null || echo ro-sys; "
              "echo h > /proc/sysrq-trigger 2>/dev/null || echo ro-sysrq; "
              "touch /sys/x 2>/dev/null || echo ro-sysfs");
  CHECK(o.out == "0\n0\nro-sys\nro-sysrq\nro-sysfs\n");
}

TEST_CASE("/dev holds Docker's devices and links", "[integration]") {
  if (cannot_run()) return;
  auto o =
      sh(busybox_rootfs(),
         "cd /dev && ls -1 && stat -c '%A %t,%T %n' null zero full random urandom tty && "
         "readlink fd && readlink stdin && readlink ptmx && echo x > /dev/shm/f && cat /dev/shm/f");
  CHECK(o.out ==
        "core\nfd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\n"
        "urandom\nzero\n"
        "crw-rw-rw- 1,3 null\ncrw-rw-rw- 1,5 zero\ncrw-rw-rw- 1,7 full\n"
        "crw-rw-rw- 1,8 random\ncrw-rw-rw- 1,9 urandom\ncrw-rw-rw- 5,0 tty\n"
        "/proc/self/fd\n/proc/self/fd/0\npts/ptmx\nx\n");
}

TEST_CASE("--read-only makes the root read-only but not /dev, /tmp mounts or /etc/hosts",
          "[integration]") {
  if (cannot_run()) return;
  ProcessSpec spec;
  spec.read_only_rootfs = true;
  auto o = sh(busybox_rootfs(), "touch /x 2>&1; touch /dev/shm/ok && echo shm-ok", spec);
  CHECK(o.out == "touch: /x: Read-only file system\nshm-ok\n");
}

TEST_CASE("--network none gives only lo, up", "[integration]") {
  if (cannot_run()) return;
  auto o = sh(busybox_rootfs(), "ls /sys/class/net; cat /sys/class/net/lo/flags");
  CHECK(o.out == "lo\n0x9\n");
  ProcessSpec spec;
  spec.network = NetworkMode::kHost;
  o = sh(busybox_rootfs(), "ls /sys/class/net | grep -c .", spec);
  CHECK(o.out != "1\n");  // the host's interfaces
}

TEST_CASE("bind mounts, read-write and read-only; /etc files come from etc_dir", "[integration]") {
  if (cannot_run()) return;
  auto host = fs::TempDir::create();
  REQUIRE(host);
  REQUIRE(fs::make_dirs(host->path() + "/rw"));
  REQUIRE(fs::make_dirs(host->path() + "/ro"));
  REQUIRE(fs::write_file_atomic(host->path() + "/ro/data", "hello\n"));
  REQUIRE(fs::make_dirs(host->path() + "/etc"));
  ProcessSpec spec;
  spec.hostname = "vol";
  spec.etc_dir = host->path() + "/etc";
  spec.mounts = {{host->path() + "/rw", "/mnt/rw", false}, {host->path() + "/ro", "/mnt/ro", true}};
  auto o = sh(busybox_rootfs(),
              "cat /mnt/ro/data; echo w > /mnt/rw/out; touch /mnt/ro/x 2>&1; "
              "grep -c vol /etc/hosts; echo 1.2.3.4 extra >> /etc/hosts",
              spec);
  CHECK(o.out == "hello\ntouch: /mnt/ro/x: Read-only file system\n1\n");
  CHECK(fs::read_file(host->path() + "/rw/out") == std::string("w\n"));
  CHECK(fs::read_file(host->path() + "/etc/hostname") == std::string("vol\n"));
  CHECK(fs::read_file(host->path() + "/etc/hosts")->find("1.2.3.4 extra") != std::string::npos);
}

TEST_CASE("containers run under Docker's default seccomp profile unless unconfined",
          "[integration]") {
  if (cannot_run()) return;
  auto o = sh(busybox_rootfs(), "grep -E '^Seccomp(_filters)?:' /proc/self/status");
  CHECK(o.out == "Seccomp:\t2\nSeccomp_filters:\t1\n");
  ProcessSpec spec;
  spec.seccomp = false;
  o = sh(busybox_rootfs(), "grep -E '^Seccomp:' /proc/self/status", spec);
  CHECK(o.out == "Seccomp:\t0\n");
}

TEST_CASE("the seccomp filter refuses what Docker's refuses, even to a process that could",
          "[integration]") {
  if (cannot_run()) return;
  // This test process is root with every capability: without the filter each call below would
  // succeed (or fail otherwise than with EPERM/ENOSYS). Bit i of the exit status: check i failed.
  auto program = default_seccomp_program();
  REQUIRE(program);
  sock_fprog prog = (*program)->fprog();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int bad = 0;
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ::_exit(255);
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) ::_exit(254);
    if (!(::unshare(CLONE_NEWUTS) < 0 && errno == EPERM)) bad |= 1;
    if (!(::syscall(SYS_clone3, nullptr, 0) < 0 && errno == ENOSYS)) bad |= 2;
    if (!(::mount("none", "/", nullptr, MS_REMOUNT | MS_BIND, nullptr) < 0 && errno == EPERM))
      bad |= 4;
    if (!(::syscall(SYS_keyctl, 0, 0, 0, 0, 0) < 0 && errno == EPERM)) bad |= 8;
    // A plain fork (clone without namespace flags) and ordinary calls still work.
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    if (child < 0 || ::waitpid(child, &status, 0) != child || status != 0) bad |= 16;
    if (::getpid() <= 0) bad |= 32;
    ::_exit(bad);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace imgbuild::runtime
