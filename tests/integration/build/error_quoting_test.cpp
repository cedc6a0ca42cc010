// Control characters from input (a Dockerfile, an image reference, a build arg) reach the
// terminal only escaped: the real binary's stderr carries "\x1b", never a raw ESC or CR.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/support/busybox_image.h"
#include "tests/support/skip.h"

using namespace imgbuild;

namespace {

struct Env {
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-quoting-it-").value();
  std::string store = dir.path() + "/store";
  std::string ctx = dir.path() + "/ctx";

  Env() { REQUIRE(fs::make_dirs(ctx)); }

  ProcessResult imgbuild(std::vector<std::string> args) {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root", store};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    REQUIRE(r);
    return *r;
  }

  void dockerfile(const std::string& text) {
    REQUIRE(fs::write_file_atomic(ctx + "/Dockerfile", text));
  }
};

bool has_raw_control(const std::string& text) {
  for (char c : text) {
    if (c == '\x1b' || c == '\r' || c == '\x07') return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a Dockerfile instruction with ESC[2J is echoed as \\x1b in the error") {
  Env env;
  env.dockerfile("FROM scratch\nRUN\x1b[2J echo hi\n");
  auto r = env.imgbuild({"--progress", "plain", "-t", "x", env.ctx});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: Dockerfile:2: unknown instruction: RUN\\x1b[2J\n");
  CHECK_FALSE(has_raw_control(r.err));

  auto parsed = env.imgbuild({"parse", "-f", env.ctx + "/Dockerfile"});
  CHECK(parsed.exit_code == 1);
  CHECK(parsed.err == "imgbuild: " + env.ctx + "/Dockerfile:2: unknown instruction: RUN\\x1b[2J\n");
}

TEST_CASE("an image reference with ESC is echoed as \\x1b in the error") {
  Env env;
  auto r = env.imgbuild({"inspect", "app\x1b]0;pwned\x07:1"});
  CHECK(r.exit_code == 1);
  CHECK(r.err ==
        "imgbuild: invalid reference \"app\\x1b]0;pwned\\x07:1\": contains whitespace or control "
        "characters\n");
  CHECK_FALSE(has_raw_control(r.err));

  auto pulled = env.imgbuild({"pull", "localhost:1/app\x1b[2J"});
  CHECK(pulled.exit_code == 1);
  CHECK(pulled.err ==
        "imgbuild: invalid reference \"localhost:1/app\\x1b[2J\": contains whitespace or control "
        "characters\n");
  CHECK_FALSE(has_raw_control(pulled.err));

  // A carriage return cannot send the cursor back over "imgbuild: ..." to forge a message.
  auto cr = env.imgbuild({"inspect", "app\rimgbuild: all good"});
  CHECK(cr.exit_code == 1);
  CHECK(cr.err ==
        "imgbuild: invalid reference \"app\\x0dimgbuild: all good\": contains whitespace or "
        "control characters\n");
}

TEST_CASE("warnings that repeat a build arg escape its control characters") {
  Env env;
  env.dockerfile("FROM scratch\nLABEL a=b\n");
  auto parsed = env.imgbuild({"parse", "--build-arg", "X\x1b[2J=1", "-f", env.ctx + "/Dockerfile"});
  CHECK(parsed.exit_code == 0);
  CHECK(parsed.err == "[Warning] One or more build-args [X\\x1b[2J] were not consumed\n");

  auto built =
      env.imgbuild({"--progress", "plain", "--build-arg", "X\x1b[2J=1", "-t", "labelled", env.ctx});
  INFO(built.err);
  CHECK(built.exit_code == 0);
  CHECK(built.err.find("[Warning] One or more build-args [X\\x1b[2J] were not consumed\n") !=
        std::string::npos);
  CHECK_FALSE(has_raw_control(built.err));
}

TEST_CASE("a failing RUN with ESC in its command shows it escaped in the step and the error") {
  if (::geteuid() != 0 || !fs::exists("/dev/fuse")) {
    ::imgbuild::testing::skip("RUN steps need root and /dev/fuse");
    return;
  }
  Env env;
  testing::import_busybox(env.store, "busybox:latest", env.dir.path() + "/busybox.tar");
  env.dockerfile("FROM busybox\nRUN echo boom; exit 3 # \x1b[2J\n");
  auto r = env.imgbuild({"--progress", "plain", "-t", "x", env.ctx});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("[2/2] RUN echo boom; exit 3 # \\x1b[2J\n") != std::string::npos);
  CHECK(r.err.ends_with(
      "imgbuild: Dockerfile:2: RUN echo boom; exit 3 # \\x1b[2J: process \"/bin/sh -c echo boom; "
      "exit 3 # \\x1b[2J\" did not complete successfully: exit code: 3\n--- last output ---\n"
      "boom\n"));
  CHECK_FALSE(has_raw_control(r.err));
}
