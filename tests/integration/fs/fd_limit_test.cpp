// Descriptors: imgfs holds a bounded number of fds however many inodes the kernel has looked up
// (fs/fd_cache.h), so trees far larger than the fd limit work; and once a mount is gone, nothing
// of it stays open, so the layers' own mounts can be unmounted at once.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <string>

#include "base/subprocess.h"
#include "fs/fd_cache.h"
#include "fs_fixture.h"

using namespace imgbuild;
using namespace imgbuild::fs::test;
using imgbuild::fs::kMaxCachedFds;
using imgbuild::fs::make_dirs;

namespace {

ProcessResult run(const std::vector<std::string>& argv) {
  auto r = run_process(argv);
  REQUIRE(r);
  return *r;
}

std::string num(int i) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%03d", i);
  return buf;
}

// dir/PREFIX00 .. dir/PREFIX(count-1), empty, made with *at() calls (50,000 of them take ~1 s).
void make_files(const std::string& dir, const std::string& prefix, int count) {
  REQUIRE(make_dirs(dir));
  UniqueFd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(d);
  for (int i = 0; i < count; ++i) {
    std::string name = prefix + num(i).substr(1);
    UniqueFd f(::openat(d.get(), name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    REQUIRE(f);
  }
}

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// The soft RLIMIT_NOFILE of process pid, from /proc/PID/limits.
long nofile_limit(pid_t pid) {
  std::string limits = read("/proc/" + std::to_string(pid) + "/limits");
  auto at = limits.find("Max open files");
  REQUIRE(at != std::string::npos);
  return std::atol(limits.c_str() + at + std::string("Max open files").size());
}

bool mounted_at(const std::string& path) {
  auto r = run({"mountpoint", "-q", path});
  return r.exit_code == 0;
}

// Lazily unmounts whatever a failed check left mounted (innermost first).
struct Unmounter {
  std::vector<std::string> paths;
  ~Unmounter() {
    for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
      if (mounted_at(*it)) ::umount2(it->c_str(), MNT_DETACH);
    }
  }
};

}  // namespace

TEST_CASE("imgfs under a 256-fd limit serves 50,000 entries in three layers, then writes",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(3);
  // Bottom: d000..d199 with f00..f99. Middle: d100..d299 with g00..g99 (merged into the bottom's
  // d100..d199). Top: d250..d349 with h00..h99, and d000 whited out.
  for (int d = 0; d < 200; ++d) make_files(f.lower(2) + "/d" + num(d), "f", 100);
  for (int d = 100; d < 300; ++d) make_files(f.lower(1) + "/d" + num(d), "g", 100);
  for (int d = 250; d < 350; ++d) make_files(f.lower(0) + "/d" + num(d), "h", 100);
  whiteout(f.lower(0) + "/d000");
  const size_t entries = 349 + 99 * 100 + 100 * 200 + 50 * 100 + 50 * 200 + 50 * 100;  // 50,249

  Unmounter guard{{f.mnt()}};
  // sh's `ulimit -n` sets the soft and the hard limit: the server cannot raise it.
  sh("ulimit -n 256 && exec " + imgfs_binary() + " imgfs " + f.mnt() +
     " -o lowerdir=" + f.lower(0) + ":" + f.lower(1) + ":" + f.lower(2) + ",upperdir=" + f.upper() +
     imgfs_mode_options());
  pid_t server = imgfs_server_pid(f.mnt());
  REQUIRE(server > 0);
  CHECK(nofile_limit(server) == 256);

  auto ls = run({"ls", "-lR", f.mnt()});
  CHECK(ls.err == "");
  CHECK(ls.exit_code == 0);
  CHECK(open_fd_count(server) < kMaxCachedFds);
  auto find = run({"find", f.mnt(), "-ls"});
  CHECK(find.err == "");
  CHECK(find.exit_code == 0);
  CHECK(count_lines(find.out) == entries + 1);
  CHECK(open_fd_count(server) < kMaxCachedFds);

  // Every inode is in the kernel's cache now; changes must still find their layers' files.
  auto w = run({"sh", "-c",
                "set -e; cd " + f.mnt() +
                    "; for d in d1??; do echo x >> $d/f07; touch $d/new; mkdir $d/sub; done;"
                    " mv d150 d150.moved; rm d120/f00 d260/h00; chmod 600 d300/h01;"
                    " ln d301/h02 d301/h02.link; echo y > d349/h99"});
  CHECK(w.err == "");
  CHECK(w.exit_code == 0);
  CHECK(read(f.m("d101/f07")) == "x\n");
  CHECK(read(f.m("d150.moved/f07")) == "x\n");
  CHECK(read(f.upper() + "/d150.moved/g99") == "");  // moved as a whole: copied up
  CHECK(open_fd_count(server) < kMaxCachedFds);
  f.check_invariant();
  CHECK(open_fd_count(server) < kMaxCachedFds);

  sh("umount " + f.mnt());
  CHECK(wait_server_exit(f.mnt()));
}

TEST_CASE("an in-process imgfs mount holds a bounded number of fds, none after unmount()",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(2);
  for (int d = 0; d < 50; ++d) make_files(f.lower(1) + "/d" + num(d), "f", 100);
  for (int d = 25; d < 75; ++d) make_files(f.lower(0) + "/d" + num(d), "g", 40);
  f.mount();
  auto find = run({"find", f.mnt(), "-ls"});  // 7,075 entries looked up and cached
  CHECK(find.err == "");
  CHECK(count_lines(find.out) == 75 + 5000 + 2000 + 1);
  CHECK(f.mounted().stats().cached_fds <= kMaxCachedFds);
  CHECK(open_fds_below(::getpid(), f.root()) <= kMaxCachedFds + 3);  // + the layer roots

  // Copy-ups of files whose inodes the kernel has cached.
  for (int d = 0; d < 50; d += 5) {
    for (int i = 0; i < 100; i += 7) {
      std::string path = f.m("d" + num(d) + "/f" + num(i).substr(1));
      UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
      REQUIRE(fd);
      REQUIRE(::write(fd.get(), "x", 1) == 1);
    }
  }
  CHECK(f.mounted().stats().cached_fds <= kMaxCachedFds);
  f.check_invariant();

  REQUIRE(f.mounted().unmount());
  CHECK(open_fds_below(::getpid(), f.root()) == 0);
}

TEST_CASE("right after umount of an imgfs mount, its layers' mounts are not busy",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  std::string lower = f.root() + "/lower";
  std::string upper = f.root() + "/upper";
  REQUIRE(make_dirs(lower));
  REQUIRE(make_dirs(upper));
  // Scripts do `umount MNT && umount LOWER`: the server may still be exiting when the second
  // umount runs, so it must not hold the layers' mounts themselves.
  for (int round = 0; round < 10; ++round) {
    INFO("round " << round);
    Unmounter guard{{lower, upper, f.mnt()}};
    sh("mount -t tmpfs imgfs-test-lower " + lower + " && mount -t tmpfs imgfs-test-upper " + upper);
    for (int i = 0; i < 50; ++i) write(lower + "/a/f" + std::to_string(i), "lower\n");
    REQUIRE(make_dirs(upper + "/u"));
    REQUIRE(make_dirs(upper + "/w"));
    sh(imgfs_binary() + " imgfs " + f.mnt() + " -o lowerdir=" + lower + ",upperdir=" + upper +
       "/u,workdir=" + upper + "/w" + imgfs_mode_options());
    CHECK(run({"ls", "-lR", f.mnt()}).exit_code == 0);
    sh("echo more >> " + f.m("a/f1") + " && cat " + f.m("a/f2") + " " + f.m("a/f1") +
       " > /dev/null && touch " + f.m("a/new"));
    REQUIRE(::umount2(f.mnt().c_str(), 0) == 0);
    CHECK(::umount2(lower.c_str(), 0) == 0);
    CHECK(::umount2(upper.c_str(), 0) == 0);
    CHECK(wait_server_exit(f.mnt()));
  }
}
