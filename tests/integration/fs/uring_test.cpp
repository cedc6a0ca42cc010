// FUSE over io_uring (fs/uring_transport.h): with the kernel offering it, a mount takes its
// requests through the ring and gives the same results as through /dev/fuse; without it (or with
// `nouring`) nothing changes. The kernel offers it only while /sys/module/fuse/parameters/
// enable_uring is Y (N by default), so these tests set it for their duration (root only) and put
// the previous value back, also when a check fails; kernels without the parameter skip them.
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <string>
#include <thread>

#include "base/eintr.h"
#include "base/fs.h"
#include "base/unique_fd.h"
#include "fs/request_counts.h"
#include "fs_fixture.h"
#include "tests/support/skip.h"

using namespace imgbuild;
using namespace imgbuild::fs::test;

namespace {

constexpr const char* kEnableUring = "/sys/module/fuse/parameters/enable_uring";

// Every user of the setting in these tests and bench/fs/uring_ab.sh holds this lock (flock) while
// it has changed it: two test binaries run in parallel (integration_fs and
// integration_fs_writeback) would otherwise each restore what the other set.
constexpr const char* kEnableUringLock = "/tmp/imgbuild-enable-uring.lock";

// Sets enable_uring for its lifetime and restores the value it found.
class EnableUring {
 public:
  explicit EnableUring(bool on)
      : lock_(::open(kEnableUringLock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    REQUIRE(lock_);
    REQUIRE(sys::retry_eintr([&] { return ::flock(lock_.get(), LOCK_EX); }) == 0);
    auto old = fs::read_file(kEnableUring);
    REQUIRE(old);
    old_ = old->substr(0, 1);
    set(on ? "Y" : "N");
  }
  ~EnableUring() { set(old_); }  // then lock_ closes, which unlocks
  EnableUring(const EnableUring&) = delete;
  EnableUring& operator=(const EnableUring&) = delete;

 private:
  static void set(const std::string& value) {
    UniqueFd fd(::open(kEnableUring, O_WRONLY | O_CLOEXEC));
    std::string line = value + "\n";
    // Not REQUIRE: the destructor may run while a failed check unwinds.
    CHECK((fd && ::write(fd.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size())));
  }
  UniqueFd lock_;
  std::string old_;
};

bool can_use_uring() {
  if (!can_mount()) return false;
  if (::access(kEnableUring, W_OK) != 0) {
    return testing::skip(
        "FUSE over io_uring needs Linux 6.14+ built with CONFIG_FUSE_IO_URING (no writable " +
        std::string(kEnableUring) + ")");
  }
  return true;
}

size_t entries(const std::string& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

// Stats once every handle opened so far was released (RELEASE comes after close() returns).
fs::MountStats settled(Fixture& f) {
  auto stats = f.mounted().stats();
  for (int i = 0; i < 200; ++i) {
    const auto& r = stats.requests;
    if (request_count(r, "RELEASE") + request_count(r, "RELEASEDIR") >=
        request_count(r, "OPEN") + request_count(r, "CREATE") + request_count(r, "OPENDIR")) {
      break;
    }
    ::usleep(50'000);
    stats = f.mounted().stats();
  }
  return stats;
}

// Lowers: l1 a directory of small files, a 3 MiB file and a symlink; l0 over it changes one file
// and whites out another. A tar of 600 files in 30 directories beside them.
void make_layers(Fixture& f) {
  for (int i = 0; i < 200; ++i) {
    write(f.lower(1) + "/a/f" + std::to_string(i), "lower file " + std::to_string(i) + "\n");
  }
  std::string big;
  for (int i = 0; big.size() < (3u << 20); ++i) big += "line " + std::to_string(i) + "\n";
  write(f.lower(1) + "/big", big);
  sh("ln -s a/f3 " + f.lower(1) + "/link");
  write(f.lower(0) + "/a/f0", "changed on top\n");
  whiteout(f.lower(0) + "/a/f1");
  for (int d = 0; d < 30; ++d) {
    for (int i = 0; i < 20; ++i) {
      write(f.root() + "/src/d" + std::to_string(d) + "/f" + std::to_string(i),
            std::string(static_cast<size_t>(10 + i), 'x'));
    }
  }
  sh("tar -C " + f.root() + "/src -cf " + f.root() + "/src.tar .");
}

// The same changes through either transport: create, write, read, rename, unlink, readdir, a tar
// extraction, copy-ups (append to a lower file, rename a lower directory) and reads of upper
// (passthrough, where the kernel has it) and lower files.
void workload(Fixture& f) {
  REQUIRE(fs::make_dirs(f.m("new")));
  for (int i = 0; i < 100; ++i) write(f.m("new/x" + std::to_string(i)), std::to_string(i) + "\n");
  for (int i = 0; i < 100; ++i)
    CHECK(read(f.m("new/x" + std::to_string(i))) == std::to_string(i) + "\n");
  sh("mv " + f.m("new/x0") + " " + f.m("new/y0") + " && rm " + f.m("new/x1") + " " + f.m("a/f2"));
  CHECK(entries(f.m("new")) == 99);
  CHECK(entries(f.m("a")) == 198);  // f1 whited out below, f2 removed here
  sh("mkdir " + f.m("t") + " && tar -C " + f.m("t") + " -xf " + f.root() + "/src.tar");
  sh("diff -r " + f.root() + "/src " + f.m("t"));
  sh("echo appended >> " + f.m("big"));  // copy-up of 3 MiB
  CHECK(read(f.m("big")) == read(f.lower(1) + "/big") + "appended\n");
  sh("mv " + f.m("a") + " " + f.m("a2"));  // a lower directory: copied up whole
  CHECK(read(f.m("a2/f0")) == "changed on top\n");
  CHECK(::access(f.m("link").c_str(), F_OK) != 0);  // dangling: a/f3 moved with a
  sh("dd if=/dev/zero of=" + f.m("zeros") + " bs=64k count=64 conv=fsync status=none");
  CHECK(read(f.m("zeros")) == std::string(64u << 16, '\0'));
}

}  // namespace

TEST_CASE("imgfs takes requests through FUSE over io_uring where offered, with /dev/fuse's results",
          "[integration][fs]") {
  if (!can_use_uring()) return;
  EnableUring on(true);
  Fixture ring(2), dev(2);
  make_layers(ring);
  make_layers(dev);
  dev.adjust_options = [](fs::MountOptions& o) { o.io_uring = false; };
  ring.mount();
  dev.mount();
  workload(ring);
  workload(dev);

  auto stats = settled(ring);
  INFO(fs::format_request_counts(stats.requests) << "; through the ring: " << stats.ring_requests);
  CHECK(stats.io_uring);
  // FORGETs always come through /dev/fuse, so do requests made before the ring was registered
  // (none here: the kernel holds them until it is).
  uint64_t ringable = request_total(stats.requests) - request_count(stats.requests, "FORGET") -
                      request_count(stats.requests, "BATCH_FORGET") -
                      request_count(stats.requests, "INTERRUPT");
  CHECK(stats.ring_requests >= ringable * 95 / 100);
  CHECK(stats.ring_requests <= ringable);
  auto dev_stats = settled(dev);
  CHECK_FALSE(dev_stats.io_uring);
  CHECK(dev_stats.ring_requests == 0);

  INFO("the mount through the ring vs through /dev/fuse");
  CHECK(diff_trees(snapshot(dev.mnt()), snapshot(ring.mnt())) == "");
  ring.check_invariant();
  ring.unmount();
  dev.unmount();
  INFO("the upper directories (the layer diffs)");
  CHECK(diff_trees(snapshot(dev.upper(), true), snapshot(ring.upper(), true)) == "");
}

TEST_CASE("imgfs serves through /dev/fuse when the kernel does not offer the ring",
          "[integration][fs]") {
  if (!can_use_uring()) return;
  EnableUring off(false);
  Fixture f(2);
  make_layers(f);
  f.mount();
  workload(f);
  auto stats = settled(f);
  CHECK_FALSE(stats.io_uring);
  CHECK(stats.ring_requests == 0);
  f.check_invariant();
  f.unmount();
}

TEST_CASE("the imgfs server logs its ring, counts what it served through it and exits at umount",
          "[integration][fs]") {
  if (!can_use_uring()) return;
  EnableUring on(true);
  Fixture f(1);
  write(f.lower(0) + "/hello", "hi\n");
  std::string log = f.root() + "/server.log";
  sh("IMGBUILD_LOG=debug " + imgfs_binary() + " -f " + f.mnt() + " -o lowerdir=" + f.lower(0) +
     ",upperdir=" + f.upper() + ",debug_stats" + imgfs_mode_options() + " 2>" + log + " &");
  bool up = false;
  for (int i = 0; i < 250 && !up; ++i) {
    up = fs::read_file(f.mnt() + "/hello").value_or("") == "hi\n";
    if (!up) ::usleep(20'000);
  }
  REQUIRE(up);
  for (int i = 0; i < 20; ++i) write(f.m("f" + std::to_string(i)), "x\n");
  sh("umount " + f.mnt());
  REQUIRE(wait_server_exit(f.mnt()));
  std::string text = fs::read_file(log).value_or("");
  INFO(text);
  CHECK(text.find("transport io_uring (") != std::string::npos);
  CHECK(text.find("; through io_uring: ") != std::string::npos);
}

namespace {

// Runs the calling thread on CPU 0 (so its requests go to the ring's queue 0) until destroyed.
class OnCpu0 {
 public:
  OnCpu0() {
    CPU_ZERO(&old_);
    pinned_ = ::sched_getaffinity(0, sizeof(old_), &old_) == 0;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    pinned_ = pinned_ && ::sched_setaffinity(0, sizeof(one), &one) == 0;
  }
  ~OnCpu0() {
    if (pinned_) ::sched_setaffinity(0, sizeof(old_), &old_);
  }
  bool pinned() const { return pinned_; }

 private:
  cpu_set_t old_;
  bool pinned_ = false;
};

}  // namespace

TEST_CASE("a slow request through the ring holds its own thread, not its CPU's queue",
          "[integration][fs]") {
  if (!can_use_uring()) return;
  EnableUring on(true);
  Fixture f(1);
  write(f.lower(0) + "/slow", "slow\n");
  for (int i = 0; i < 20; ++i) write(f.lower(0) + "/fast" + std::to_string(i), "fast\n");
  // A lazy layer's fetch before an open (MountOptions::fill_lazy) is imgfs's slow request.
  std::atomic<bool> slow_started{false};
  f.adjust_options = [&](fs::MountOptions& o) {
    o.lazy = {true};
    o.fill_lazy = [&](size_t, const std::string& path) {
      if (path == "slow") {
        slow_started = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      }
      return 0;
    };
  };
  f.mount();
  OnCpu0 cpu0;
  if (!cpu0.pinned()) return (void)testing::skip("cannot run on CPU 0 (cpuset)");
  std::atomic<bool> slow_done{false};
  std::string slow_path = f.m("slow");
  std::thread slow([&] {
    OnCpu0 same_queue;
    UniqueFd fd(::open(slow_path.c_str(), O_RDONLY | O_CLOEXEC));
    slow_done = true;
  });
  for (int i = 0; i < 500 && !slow_started; ++i) ::usleep(10'000);
  CHECK(slow_started);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) CHECK(read(f.m("fast" + std::to_string(i))) == "fast\n");
  auto took = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(slow_done);  // the fast reads did not wait for it
  CHECK(took < std::chrono::milliseconds(1000));
  slow.join();
  CHECK(slow_done);
  CHECK(f.mounted().stats().io_uring);
  f.unmount();
}
