// Hostile Dockerfiles, contexts and images against the host (docs/security.md): bind-mount
// sources that are symlinks to host paths, out-of-range user ids, device nodes in RUN steps, the
// host's loopback from RUN steps, and a build killed mid-RUN. Each checks host canaries: a secret
// file that must stay unread (its content never reaches an image) and a directory that must stay
// unwritten. Needs root and /dev/fuse.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/mount_info.h"
#include "base/sha256.h"
#include "base/subprocess.h"
#include "tests/support/busybox_image.h"
#include "tests/support/registry_server.h"
#include "tests/support/skip.h"

using namespace imgbuild;

namespace {

constexpr const char* kSecret = "HOST-SECRET-7f3a9c";

bool can_run() {
  if (::geteuid() != 0 || !fs::exists("/dev/fuse")) {
    return ::imgbuild::testing::skip("hostile build tests need root and /dev/fuse");
  }
  return true;
}

std::string shadow_digest() {
  auto text = fs::read_file("/etc/shadow");
  return text ? Sha256::hex_of(*text) : std::string("none");
}

struct Env {
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-hostile-").value();
  std::string store = dir.path() + "/store";
  std::string ctx = dir.path() + "/ctx";
  // The host's canaries: a secret to steal and a directory to write into.
  std::string host = dir.path() + "/host";
  std::string shadow_before = shadow_digest();

  Env() {
    REQUIRE(fs::make_dirs(ctx));
    REQUIRE(fs::make_dirs(host));
    REQUIRE(fs::write_file_atomic(host + "/secret", std::string(kSecret) + "\n"));
    testing::import_busybox(store, "busybox:latest", dir.path() + "/busybox.tar");
  }
  ~Env() {
    CHECK(shadow_digest() == shadow_before);
    CHECK(fs::read_file(host + "/secret") == std::string(kSecret) + "\n");
    // Nothing written into the host directory, nothing left mounted anywhere under the test dir.
    CHECK_FALSE(fs::exists(host + "/canary"));
    CHECK(mountinfo::points_under(dir.path()).empty());
  }

  ProcessResult imgbuild(std::vector<std::string> args) {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root", store};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    REQUIRE(r);
    return *r;
  }
  ProcessResult build(const std::string& dockerfile, const std::string& tag) {
    REQUIRE(fs::write_file_atomic(ctx + "/Dockerfile", dockerfile));
    return imgbuild({"-t", tag, "--progress", "plain", ctx});
  }
  // The content of path in the image (empty when missing).
  std::string file_in(const std::string& image, const std::string& path) {
    auto r = imgbuild({"run", "--rm", image, "sh", "-c", "cat " + path + " 2>/dev/null; true"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }
};

}  // namespace

TEST_CASE("RUN --mount=type=bind,from=STAGE resolves a symlink to / inside the stage") {
  if (!can_run()) return;
  Env env;
  std::string stages = "FROM busybox AS evil\nRUN ln -s / /hostroot\nFROM busybox\n";
  // Read-write through the symlink: /h is the stage's own root, where the host path is missing.
  auto built = env.build(stages +
                             "RUN --mount=type=bind,from=evil,source=hostroot,target=/h,rw sh -c "
                             "'cat /h" +
                             env.host + "/secret > /stolen; echo x > /h" + env.host +
                             "/canary; readlink /h/hostroot > /listing; true'\n",
                         "app");
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CHECK(env.file_in("app", "/stolen") == "");
  CHECK(env.file_in("app", "/listing") == "/\n");
  // A source path through the symlink names a path inside the stage: it does not exist there.
  auto below = env.build(stages + "RUN --mount=type=bind,from=evil,source=hostroot" + env.host +
                             ",target=/h cat /h/secret\n",
                         "app");
  CHECK(below.exit_code != 0);
  CHECK(below.err.find("bind source hostroot" + env.host + ": openat2(/hostroot" + env.host +
                       "): ENOENT") != std::string::npos);
}

TEST_CASE("RUN --mount=type=bind,from=IMAGE resolves a symlink to a host path inside the image") {
  if (!can_run()) return;
  Env env;
  auto evil =
      env.build("FROM busybox\nRUN ln -s " + env.host + " /data && ln -s / /data2\n", "evil-image");
  INFO(evil.err);
  REQUIRE(evil.exit_code == 0);
  // /data points at a host path that the image does not have: a clear error, as BuildKit's.
  auto missing = env.build(
      "FROM busybox\nRUN --mount=type=bind,from=evil-image,source=data,target=/d cat /d/secret\n",
      "app");
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("bind source data: openat2(/data): ENOENT") != std::string::npos);
  // /data2 -> / is the image's root: the host path below it is the image's (absent), and writes
  // go to the bind's throwaway upper.
  auto root = env.build(
      "FROM busybox\nRUN --mount=type=bind,from=evil-image,source=data2,"
      "target=/d,rw sh -c 'cat /d" +
          env.host + "/secret > /stolen; mkdir -p /d" + env.host + " && echo x > /d" + env.host +
          "/canary; true'\n",
      "app");
  INFO(root.err);
  REQUIRE(root.exit_code == 0);
  CHECK(env.file_in("app", "/stolen") == "");
}

TEST_CASE("a symlink in the build context cannot expose host files to a bind mount") {
  if (!can_run()) return;
  Env env;
  REQUIRE(fs::make_dirs(env.ctx + "/sub"));
  REQUIRE(fs::write_file_atomic(env.ctx + "/sub/in-context", "ctx\n"));
  REQUIRE(::symlink("/", (env.ctx + "/rootlink").c_str()) == 0);
  REQUIRE(::symlink(env.host.c_str(), (env.ctx + "/hostlink").c_str()) == 0);
  REQUIRE(::symlink("sub", (env.ctx + "/sublink").c_str()) == 0);
  auto built = env.build(
      "FROM busybox\n"
      "RUN --mount=type=bind,source=rootlink,target=/r sh -c 'cat /r" +
          env.host +
          "/secret > /stolen1; ls /r/sub > /seen; true'\n"
          "RUN --mount=type=bind,source=rootlink,target=/r,rw sh -c 'cat /r" +
          env.host + "/secret > /stolen2; echo x > /r" + env.host +
          "/canary; true'\n"
          "RUN --mount=type=bind,source=sublink,target=/s cat /s/in-context > /via-link\n",
      "app");
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CHECK(env.file_in("app", "/stolen1") == "");
  CHECK(env.file_in("app", "/stolen2") == "");
  // rootlink names the context's own root, and a link within the context still works.
  CHECK(env.file_in("app", "/seen") == "in-context\n");
  CHECK(env.file_in("app", "/via-link") == "ctx\n");
  auto host = env.build(
      "FROM busybox\nRUN --mount=type=bind,source=hostlink,target=/x cat /x/secret > /stolen\n",
      "app2");
  CHECK(host.exit_code != 0);
  CHECK(host.err.find("--mount type=bind: source hostlink") != std::string::npos);
}

TEST_CASE("user ids above 2147483647 are refused: USER, COPY --chown and run --user") {
  if (!can_run()) return;
  Env env;
  auto user = env.build("FROM busybox\nUSER 4294967295\nRUN id -u > /id\n", "app");
  CHECK(user.exit_code != 0);
  CHECK(user.err.find("user 4294967295: uids and gids must be in range 0-2147483647") !=
        std::string::npos);
  auto group = env.build("FROM busybox\nUSER 0:4294967295\nRUN id\n", "app");
  CHECK(group.exit_code != 0);
  CHECK(group.err.find("uids and gids must be in range 0-2147483647") != std::string::npos);
  REQUIRE(fs::write_file_atomic(env.ctx + "/f", "x"));
  auto chown = env.build("FROM busybox\nCOPY --chown=4294967295:0 f /f\n", "app");
  CHECK(chown.exit_code != 0);
  CHECK(chown.err.find("--chown 4294967295:0: uids and gids must be in range 0-2147483647") !=
        std::string::npos);
  auto run = env.imgbuild({"run", "--rm", "--user", "4294967295", "busybox", "id", "-u"});
  CHECK(run.exit_code == 125);
  CHECK(run.out == "");
  CHECK(run.err.find("uids and gids must be in range 0-2147483647") != std::string::npos);
  auto ok = env.imgbuild({"run", "--rm", "--user", "2147483647", "busybox", "id", "-u"});
  INFO(ok.err);
  CHECK(ok.out == "2147483647\n");
}

TEST_CASE("RUN steps cannot open host devices") {
  if (!can_run()) return;
  Env env;
  auto built = env.build(
      "FROM busybox\n"
      "RUN (mknod /dev/loop0 b 7 0 && head -c1 /dev/loop0; "
      "mknod /dev/kmsg c 1 11 && head -c1 /dev/kmsg; "
      "mknod /kmsg c 1 11 && head -c1 /kmsg; echo x > /dev/null && echo null-ok) "
      "> /devices 2>&1; true\n",
      "app");
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CHECK(env.file_in("app", "/devices") ==
        "head: /dev/loop0: Operation not permitted\n"
        "head: /dev/kmsg: Operation not permitted\n"
        // The step's root is an imgfs mount, mounted nodev: refused before the policy is asked.
        "head: /kmsg: Permission denied\n"
        "null-ok\n");
}

TEST_CASE("kill -9 during a RUN leaves no dead mount behind once the store is next opened") {
  if (!can_run()) return;
  Env env;
  // Unique to this run: the step's shell shows it in its command line once the RUN has started.
  std::string marker = "kill-test-" + env.dir.path().substr(env.dir.path().rfind('-') + 1);
  REQUIRE(fs::write_file_atomic(
      env.ctx + "/Dockerfile",
      "FROM busybox\nRUN --mount=type=bind,source=.,target=/c,rw sh -c 'sleep 60; echo " + marker +
          "'\n"));
  auto child = testing::spawn_background(
      {IMGBUILD_BINARY, "--root", env.store, "-t", "app", env.ctx}, env.dir.path() + "/build.log");
  REQUIRE(child);
  std::string tmp = env.store + "/tmp";
  // Wait for the step's mounts (its rootfs and the context bind) to appear under tmp/.
  // Kill only once the step's process runs: imgfs serves these mounts from threads of the build
  // process itself, so a SIGKILL while its main thread still sets up the rootfs (a stat on the
  // mount, answered by a thread the signal has just killed) would leave it waiting forever in
  // the kernel (FUSE waits for a request userspace has read without interruption).
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto ps = run_process({"pgrep", "-f", marker});
    started = ps && ps->exit_code == 0;
  }
  REQUIRE(started);
  REQUIRE(mountinfo::points_under(tmp).size() >= 2);  // rootfs + the rw context bind
  child->signal(SIGKILL);
  REQUIRE(child->wait());
  CHECK_FALSE(mountinfo::points_under(tmp).empty());  // the dead server's mounts
  auto images = env.imgbuild({"images"});
  CHECK(images.exit_code == 0);
  CHECK(images.err == "");
  CHECK(mountinfo::points_under(tmp).empty());
  auto left = run_process({"ls", "-A", tmp});
  REQUIRE(left);
  CHECK(left->out == "");
}

namespace {

// A TCP listener on this machine that counts the connections it accepts, until destroyed.
class Listener {
 public:
  explicit Listener(const char* addr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    ::inet_pton(AF_INET, addr, &sa.sin_addr);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) == 1) {
          int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
          if (c >= 0) {
            ++accepted_;
            ::close(c);
          }
        }
      }
    });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// This machine's first non-loopback IPv4 address ("" when it has none).
std::string host_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string out;
  for (ifaddrs* i = list; i != nullptr && out.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    out = buf;
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

TEST_CASE("RUN steps cannot reach the host's loopback unless the build asks for the host network") {
  if (!can_run()) return;
  Env env;
  Listener loopback("127.0.0.1");
  Listener outside("0.0.0.0");
  std::string lo = std::to_string(loopback.port());
  std::string probe = "RUN for a in 127.0.0.1 10.0.2.2; do (echo | nc -w 2 $a " + lo +
                      " >/dev/null 2>&1) && echo reached $a || echo refused $a; done > /probe\n";
  std::string addr = host_address();
  if (!addr.empty()) {
    // Outbound access leaves through the host's own address, as a connection to the internet
    // would (CI reaches nothing else).
    probe += "RUN (echo | nc -w 2 " + addr + " " + std::to_string(outside.port()) +
             " >/dev/null 2>&1) && echo outbound ok > /outbound || echo no outbound > /outbound\n";
  }
  auto built = env.build("FROM busybox\n" + probe, "app");
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CHECK(env.file_in("app", "/probe") == "refused 127.0.0.1\nrefused 10.0.2.2\n");
  CHECK(loopback.accepted() == 0);
  if (!addr.empty()) {
    CHECK(env.file_in("app", "/outbound") == "outbound ok\n");
    CHECK(outside.accepted() == 1);
  }
  // The build's explicit choice reaches it.
  auto host = env.imgbuild({"--network", "host", "--no-cache", "-t", "app", env.ctx});
  INFO(host.err);
  REQUIRE(host.exit_code == 0);
  CHECK(env.file_in("app", "/probe") == "reached 127.0.0.1\nrefused 10.0.2.2\n");
  CHECK(loopback.accepted() == 1);
  // A Dockerfile cannot opt itself in: RUN --network=host needs the entitlement, as in BuildKit.
  auto opt_in = env.build("FROM busybox\nRUN --network=host true\n", "app");
  CHECK(opt_in.exit_code != 0);
  CHECK(opt_in.err.find("RUN --network=host needs the network.host entitlement: build with "
                        "--allow network.host (or --network host)") != std::string::npos);
  auto allowed = env.imgbuild({"--allow", "network.host", "-t", "app", env.ctx});
  INFO(allowed.err);
  CHECK(allowed.exit_code == 0);
}
