// Hostile Dockerfiles, contexts and images against the host (docs/security.md): bind-mount
// sources that are symlinks to host paths, out-of-range user ids, device nodes in RUN steps, and a
// build killed mid-RUN. Each checks host canaries: a secret file that must stay unread (its
// content never reaches an image) and a directory that must stay unwritten. Needs root and
// /dev/fuse.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/mount_info.h"
#include "base/sha256.h"
#include "base/subprocess.h"
#include "tests/support/busybox_image.h"
#include "tests/support/registry_server.h"

using namespace imgbuild;

namespace {

constexpr const char* kSecret = "HOST-SECRET-7f3a9c";

bool can_run() {
  if (::geteuid() != 0 || !fs::exists("/dev/fuse")) {
    WARN("SKIPPED: hostile build tests need root and /dev/fuse");
    return false;
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
  REQUIRE(fs::write_file_atomic(
      env.ctx + "/Dockerfile",
      "FROM busybox\nRUN --mount=type=bind,source=.,target=/c,rw sleep 60\n"));
  auto child = testing::spawn_background(
      {IMGBUILD_BINARY, "--root", env.store, "-t", "app", env.ctx}, env.dir.path() + "/build.log");
  REQUIRE(child);
  std::string tmp = env.store + "/tmp";
  // Wait for the step's mounts (its rootfs and the context bind) to appear under tmp/.
  bool mounted = false;
  for (int i = 0; i < 300 && !mounted; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    mounted = mountinfo::points_under(tmp).size() >= 2;  // rootfs + the rw context bind
  }
  REQUIRE(mounted);
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
