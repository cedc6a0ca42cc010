// `imgbuild -f Dockerfile -t app .` for real: busybox base imported from testdata, RUN on an imgfs
// mount through the runtime, the result run with `imgbuild run`. Needs root and /dev/fuse.
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
    return ::imgbuild::testing::skip("build integration tests need root and /dev/fuse");
  }
  return true;
}

struct Env {
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-build-it-").value();
  std::string store = dir.path() + "/store";

  ProcessResult imgbuild(std::vector<std::string> args, std::string store_root = "") {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root",
                                  store_root.empty() ? store : store_root};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    REQUIRE(r);
    return *r;
  }

  void import_busybox(std::string store_root = "") {
    testing::import_busybox(store_root.empty() ? store : store_root, "busybox:latest",
                            dir.path() + "/busybox.tar");
  }
};

const std::string kExample = std::string(IMGBUILD_SOURCE_DIR) + "/examples/hello";

}  // namespace

TEST_CASE("build the example, run it, rebuild fully cached") {
  if (!can_run()) return;
  Env env;
  env.import_busybox();
  auto built = env.imgbuild(
      {"-f", kExample + "/Dockerfile", "-t", "hello", "--progress", "plain", kExample});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);

  auto ran = env.imgbuild({"run", "--rm", "hello"});
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  CHECK(ran.out.find("greet.sh running as app in /app\n") != std::string::npos);
  CHECK(ran.out.find("hello from a RUN step, built ") != std::string::npos);
  CHECK(ran.out.find("imgbuild built this image from a Dockerfile, without a daemon.\n") !=
        std::string::npos);

  auto again = env.imgbuild(
      {"-f", kExample + "/Dockerfile", "-t", "hello", "--progress", "plain", kExample});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("cache miss") == std::string::npos);
  CHECK(again.err.find("RUN mkdir -p data") != std::string::npos);
  size_t cached = 0;
  for (size_t p = 0; (p = again.err.find(" CACHED\n", p)) != std::string::npos; ++p) ++cached;
  CHECK(cached >= 3);

  auto quiet = env.imgbuild({"-q", "-f", kExample + "/Dockerfile", "-t", "hello", kExample});
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.out.size() == 72);  // "sha256:" + 64 hex + "\n"
  CHECK(quiet.err.empty());
}

TEST_CASE("a failing RUN names its line and keeps the previous tag") {
  if (!can_run()) return;
  Env env;
  env.import_busybox();
  std::string ctx = env.dir.path() + "/ctx";
  REQUIRE(fs::make_dirs(ctx));
  REQUIRE(fs::write_file_atomic(ctx + "/Dockerfile", "FROM busybox\nRUN echo ok > /ok\n"));
  auto good = env.imgbuild({"-q", "-t", "app", ctx});
  INFO(good.err);
  REQUIRE(good.exit_code == 0);
  REQUIRE(fs::write_file_atomic(ctx + "/Dockerfile",
                                "FROM busybox\nRUN echo ok > /ok\nRUN echo boom; exit 7\n"));
  auto bad = env.imgbuild({"-q", "-t", "app", ctx});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err ==
        "imgbuild: Dockerfile:3: RUN echo boom; exit 7: process \"/bin/sh -c echo boom; exit 7\" "
        "did not complete successfully: exit code: 7\n--- last output ---\nboom\n");
  auto inspect = env.imgbuild({"images", "--format", "json"});
  CHECK(inspect.out.find(good.out.substr(7, 12)) != std::string::npos);
}

TEST_CASE("SOURCE_DATE_EPOCH builds give one digest in two fresh stores") {
  if (!can_run()) return;
  Env env;
  std::string other = env.dir.path() + "/store2";
  env.import_busybox();
  // The same base in both stores (import stamps the current time, so move it by save/load).
  std::string saved = env.dir.path() + "/base-oci.tar";
  auto save = env.imgbuild({"save", "--format", "oci", "-o", saved, "busybox:latest"});
  INFO(save.err);
  REQUIRE(save.exit_code == 0);
  auto load = env.imgbuild({"load", "-i", saved}, other);
  INFO(load.err);
  REQUIRE(load.exit_code == 0);
  std::vector<std::string> args{
      "-q",    "--build-arg", "SOURCE_DATE_EPOCH=1700000000", "-f", kExample + "/Dockerfile", "-t",
      "hello", kExample};
  auto a = env.imgbuild(args);
  auto b = env.imgbuild(args, other);
  INFO(a.err);
  INFO(b.err);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  CHECK(a.out == b.out);
}
