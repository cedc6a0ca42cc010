// Cgroup limits and their cleanup; signals; a pty; many containers at once.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "base/fs.h"
#include "base/subprocess.h"
#include "base/sys.h"
#include "runtime_fixture.h"

namespace imgbuild::runtime {
using testing::busybox_rootfs;
using testing::cannot_run;
using testing::sh;

namespace {
// Every directory named imgbuild-<id> left in any cgroup hierarchy.
bool cgroup_left(const std::string& id) {
  auto r = run_process({"find", "/sys/fs/cgroup", "-name", "imgbuild-" + id});
  return !r || !r->out.empty();
}
}  // namespace

TEST_CASE("--memory 32m and allocating 100 MB ends with 137; the cgroup is removed",
          "[integration]") {
  if (cannot_run()) return;
  ProcessSpec spec;
  spec.id = "memtest0000000000000000000000000000000000000000000000000000000001";
  spec.resources.memory_bytes = 32 << 20;
  auto o =
      sh(busybox_rootfs(), "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived", spec);
  CHECK(o.out == "");
  CHECK(o.code == 137);
  CHECK_FALSE(cgroup_left(spec.id));
}

TEST_CASE("--pids-limit stops forks; --cpus sets the CFS quota", "[integration]") {
  if (cannot_run()) return;
  ProcessSpec spec;
  spec.id = "pidtest00000000000000000000000000000000000000000000000000000000001";
  spec.resources.pids_limit = 4;
  spec.resources.cpus = 0.5;
  auto o = sh(busybox_rootfs(),
              "sh -c 'for i in 1 2 3 4 5 6; do sleep 1 & done' 2>/dev/null; "
              "set -- /proc/[0-9]*; echo $#",
              spec);
  CHECK(o.out == "3\n");  // this shell, and the 2 sleeps forked before the limit
  CHECK_FALSE(cgroup_left(spec.id));
}

TEST_CASE("SIGTERM sent to run_container reaches the container", "[integration]") {
  if (cannot_run()) return;
  ProcessSpec spec = testing::spec_for(
      {"/bin/sh", "-c",
       "trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done"});
  auto out = fs::TempDir::create();
  REQUIRE(out);
  auto fd = sys::open(out->path() + "/out", O_RDWR | O_CREAT, 0644);
  REQUIRE(fd);
  spec.stdout_fd = fd->get();
  // SIGTERM only once the trap is set ("ready"); a container that never says so within the
  // deadline fails the test (and is still ended by the signal, so the test cannot hang).
  const std::string out_path = out->path() + "/out";
  auto ready = [&out_path] {
    auto text = fs::read_file(out_path);
    return text && *text == "ready\n";
  };
  bool saw_ready = false;
  std::thread killer([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!(saw_ready = ready()) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(::getpid(), SIGTERM);
  });
  auto code = run_container(busybox_rootfs(), spec);
  killer.join();
  INFO("waited up to 60 s for the container to print \"ready\"");
  REQUIRE(saw_ready);
  REQUIRE(code);
  CHECK(*code == 42);
  CHECK(fs::read_file(out->path() + "/out") == std::string("ready\ngot TERM\n"));
}

TEST_CASE("a tty is a pty of the container's devpts", "[integration]") {
  if (cannot_run()) return;
  ProcessSpec spec =
      testing::spec_for({"/bin/sh", "-c", "tty; test -t 0 && test -t 2 && echo tty"});
  spec.tty = true;
  auto c = Container::start(busybox_rootfs(), spec);
  REQUIRE(c);
  UniqueFd master = c->take_pty_master();
  REQUIRE(master);
  std::string out;
  char buf[256];
  for (;;) {
    ssize_t n = ::read(master.get(), buf, sizeof buf);
    if (n <= 0) break;  // EIO once the container's side is closed
    out.append(buf, static_cast<size_t>(n));
  }
  CHECK(*c->wait() == 0);
  CHECK(out == "/dev/pts/0\r\ntty\r\n");
}

TEST_CASE("10 containers in parallel on one root", "[integration]") {
  if (cannot_run()) return;
  std::string root = busybox_rootfs();
  // All ten run at once: each announces itself in a shared directory (bound on /tmp, which the
  // image has) and waits until all ten
  // have (60 s at most, then it fails), so none finishes before the last has started.
  auto meet = fs::TempDir::create();
  REQUIRE(meet);
  std::vector<testing::Output> outs(10);
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      ProcessSpec spec;
      spec.hostname = "c" + std::to_string(i);
      spec.mounts.push_back(BindMount{.source = meet->path(), .target = "/tmp"});
      outs[static_cast<size_t>(i)] =
          sh(root,
             "touch /tmp/$(hostname); n=0; "
             "while [ $(ls /tmp | wc -l) -lt 10 ]; do n=$((n+1)); [ $n -lt 1200 ] || exit 9; "
             "sleep 0.05; done; echo $(hostname) $$",
             spec);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 10; ++i) {
    INFO("stderr: " << outs[static_cast<size_t>(i)].err
                    << " start error: " << outs[static_cast<size_t>(i)].error);
    CHECK(outs[static_cast<size_t>(i)].out == "c" + std::to_string(i) + " 1\n");
    CHECK(outs[static_cast<size_t>(i)].code == 0);
  }
}

}  // namespace imgbuild::runtime
