// What a RUN step's process gets by default, checked against the values BuildKit (runc) gives:
// HOME from the step user's passwd entry, "/" when there is none, unless ENV sets it. The
// conformance case tests/conformance/cases/19-run-defaults compares the same against BuildKit
// itself. Needs root and /dev/fuse.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/support/busybox_image.h"
#include "tests/support/skip.h"

using namespace imgbuild;

namespace {

bool can_run() {
  if (::geteuid() != 0 || !fs::exists("/dev/fuse")) {
    return ::imgbuild::testing::skip("build parity tests need root and /dev/fuse");
  }
  return true;
}

struct Env {
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-parity-it-").value();
  std::string store = dir.path() + "/store";

  ProcessResult imgbuild(std::vector<std::string> args) {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root", store};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    REQUIRE(r);
    return *r;
  }
  // `imgbuild -q -t tag CTX` of a context holding just this Dockerfile, on a local busybox.
  ProcessResult build(const std::string& tag, const std::string& dockerfile) {
    if (!fs::exists(store)) {
      testing::import_busybox(store, "busybox:latest", dir.path() + "/busybox.tar");
    }
    std::string ctx = dir.path() + "/ctx";
    REQUIRE(fs::make_dirs(ctx));
    REQUIRE(fs::write_file_atomic(ctx + "/Dockerfile", dockerfile));
    return imgbuild({"-q", "-t", tag, ctx});
  }
};

}  // namespace

TEST_CASE("RUN steps get HOME from the step user's passwd entry unless ENV sets it") {
  if (!can_run()) return;
  Env env;
  auto built = env.build("homes",
                         "FROM busybox\n"
                         "RUN mkdir -m 0777 /out && "
                         "echo \"$HOME\" > /out/root\n"
                         "USER app\n"
                         "RUN echo \"$HOME\" > /out/app\n"
                         "USER 1234:1234\n"
                         "RUN echo \"$HOME\" > /out/numeric\n"
                         "USER root\n"
                         "ENV HOME=/custom\n"
                         "RUN echo \"$HOME\" > /out/env\n");
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  auto ran = env.imgbuild(
      {"run", "--rm", "homes", "cat", "/out/root", "/out/app", "/out/numeric", "/out/env"});
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  CHECK(ran.out == "/root\n/home/app\n/\n/custom\n");
}

TEST_CASE("RUN --mount=type=tmpfs is a real tmpfs of the given size that leaves nothing behind") {
  if (!can_run()) return;
  Env env;
  auto built = env.build(
      "tmpfs",
      "FROM busybox\n"
      "RUN --mount=type=tmpfs,target=/scratch,size=1m "
      "grep ' /scratch ' /proc/mounts > /mounts && echo data > /scratch/file && "
      "if dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null; then echo fits; "
      "else echo full; fi > /dd\n"
      "RUN --mount=type=tmpfs,target=/scratch ls -A /scratch > /second\n"
      "RUN if [ -e /scratch/file ]; then echo left; else echo clean; fi > /after\n");
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  auto ran = env.imgbuild({"run", "--rm", "tmpfs", "cat", "/mounts", "/dd", "/second", "/after"});
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  INFO(ran.out);
  CHECK(ran.out.starts_with("tmpfs /scratch tmpfs rw,nosuid,"));
  CHECK(ran.out.find(",size=1024k") != std::string::npos);
  CHECK(ran.out.find("\nfull\nclean\n") != std::string::npos);
}

TEST_CASE("RUN --mount=type=tmpfs refuses a size it cannot read") {
  if (!can_run()) return;
  Env env;
  auto built = env.build("bad", "FROM busybox\nRUN --mount=type=tmpfs,target=/t,size=1x true\n");
  CHECK(built.exit_code != 0);
  CHECK(built.err.find("--mount type=tmpfs: invalid size: '1x'") != std::string::npos);
}

TEST_CASE("build --platform refuses an architecture the machine cannot run") {
  if (!can_run()) return;
#if defined(__x86_64__)
  if (fs::exists("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
    testing::skip("this machine has an arm64 emulator");
    return;
  }
  Env env;
  auto built = env.imgbuild({"build", "--platform", "linux/arm64", "-t", "arm",
                             std::string(IMGBUILD_SOURCE_DIR) + "/examples/hello"});
  CHECK(built.exit_code != 0);
  CHECK(built.err ==
        "imgbuild: --platform linux/arm64: this machine runs linux/amd64 and has no emulator for "
        "arm64 (install qemu-user-static and binfmt-support)\n");
#else
  testing::skip("written for an amd64 machine");
#endif
}

// As BuildKit: the runtime's mount stubs (/etc/hosts and /etc/resolv.conf, which busybox lacks)
// leave no copied-up /etc behind, so a RUN step that changes no file commits no layer.
TEST_CASE("a RUN step that changes nothing leaves an empty layer") {
  if (!can_run()) return;
  Env env;
  auto built = env.build("quiet",
                         "FROM busybox\nRUN true\nRUN cat /etc/hosts >/dev/null\n"
                         "RUN echo data > /tmp/file\n");
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  auto layers = [&](const std::string& image) {
    auto r = env.imgbuild({"inspect", "--format", "{{len .RootFS.Layers}}", image});
    REQUIRE(r.exit_code == 0);
    return std::stoi(r.out);
  };
  CHECK(layers("quiet") == layers("busybox") + 1);
  auto sizes = env.imgbuild({"history", "--format", "{{.Size}}", "quiet"});
  REQUIRE(sizes.exit_code == 0);
  CHECK(sizes.out.find("\n0B\n0B\n") != std::string::npos);
  // The one layer holds tmp/ and its file, not etc/.
  auto top = env.imgbuild({"inspect", "--format",
                           "{{index .RootFS.Layers " + std::to_string(layers("quiet") - 1) + "}}",
                           "quiet"});
  REQUIRE(top.exit_code == 0);
  std::string dir = env.store + "/layers/sha256/" + top.out.substr(7, top.out.find('\n') - 7);
  CHECK(fs::exists(dir + "/tmp/file"));
  CHECK_FALSE(fs::exists(dir + "/etc"));
}
