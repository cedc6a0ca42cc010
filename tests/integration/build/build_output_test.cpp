// `build --output` (cli/build_output.h): the final stage's files as a directory or a tar, and the
// image as OCI / Docker archives, checked against `imgbuild mount` of the same image and with
// skopeo and umoci. Needs root and /dev/fuse (skopeo/umoci checks skip when those are missing).
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
    return ::imgbuild::testing::skip("build --output tests need root and /dev/fuse");
  }
  return true;
}

struct Env {
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-output-it-").value();
  std::string store = dir.path() + "/store";
  std::string ctx = dir.path() + "/ctx";

  ProcessResult imgbuild(std::vector<std::string> args) {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root", store};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    REQUIRE(r);
    return *r;
  }

  ProcessResult sh(const std::string& script) {
    auto r = run_process({"sh", "-c", script});
    REQUIRE(r);
    return *r;
  }

  Env() {
    testing::import_busybox(store, "busybox:latest", dir.path() + "/busybox.tar");
    REQUIRE(fs::make_dirs(ctx));
    // A whiteout (rm of a base file), an opaque-ish replace, a hard link, other owners.
    REQUIRE(fs::write_file_atomic(ctx + "/Dockerfile",
                                  "FROM busybox\n"
                                  "RUN rm /etc/motd 2>/dev/null; rm -rf /home && mkdir -p /home/x"
                                  " && echo a > /f && ln /f /g && chown 33:33 /f\n"
                                  "COPY file.txt /app/\n"));
    REQUIRE(fs::write_file_atomic(ctx + "/file.txt", "context file\n"));
  }
};

// One line per entry: path, type+mode, owner, size, content hash, link target (not mtimes of
// directories, which differ between a mount and a copy only by when they were read).
const char* kListing =
    "cd \"$0\" && find . -mindepth 1 | sort | while read -r p; do "
    "printf '%s %s %s ' \"$p\" \"$(stat -c '%F %a %u:%g %s' \"$p\")\" \"$(readlink \"$p\")\"; "
    "if [ -f \"$p\" ] && [ ! -L \"$p\" ]; then sha256sum < \"$p\" | cut -c1-16; else echo; fi; "
    "done";

}  // namespace

TEST_CASE("build -o DIR writes the final stage's files, equal to imgbuild mount") {
  if (!can_run()) return;
  Env env;
  std::string out = env.dir.path() + "/out";
  auto built = env.imgbuild({"build", "-q", "-t", "out:1", "-o", out, env.ctx});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CHECK_FALSE(fs::exists(out + "/home/app"));
  CHECK(fs::exists(out + "/home/x"));
  CHECK(fs::exists(out + "/app/file.txt"));

  std::string mnt = env.dir.path() + "/mnt";
  REQUIRE(fs::make_dirs(mnt));
  auto mounted = env.imgbuild({"mount", "out:1", mnt});
  INFO(mounted.err);
  REQUIRE(mounted.exit_code == 0);
  auto from_mount = *run_process({"sh", "-c", kListing, mnt});
  auto unmounted = env.imgbuild({"umount", mnt});
  CHECK(unmounted.exit_code == 0);
  auto from_output = *run_process({"sh", "-c", kListing, out});
  REQUIRE(from_mount.exit_code == 0);
  REQUIRE(from_output.exit_code == 0);
  CHECK(from_output.out.find("./f regular file 644 33:33") != std::string::npos);
  CHECK(from_output.out == from_mount.out);

  // A second export into the now non-empty directory is refused by name; nothing changes.
  auto again = env.imgbuild({"build", "-q", "-o", out, env.ctx});
  CHECK(again.exit_code != 0);
  CHECK(again.err.find("is not empty") != std::string::npos);
}

TEST_CASE("build -o - writes a tar of the files to stdout, type=tar to a file") {
  if (!can_run()) return;
  Env env;
  std::string tar = env.dir.path() + "/rootfs.tar";
  auto piped = env.sh(std::string(IMGBUILD_BINARY) + " --root " + env.store + " build -q -o - " +
                      env.ctx + " > " + tar + " && tar -tvf " + tar + " --numeric-owner");
  INFO(piped.err);
  REQUIRE(piped.exit_code == 0);
  CHECK(piped.out.find("app/file.txt") != std::string::npos);
  CHECK(piped.out.find("33/33") != std::string::npos);
  CHECK(piped.out.find("sha256:") == std::string::npos);  // -q prints no ID into the tar
  auto file = env.imgbuild({"build", "-q", "--output", "type=tar,dest=" + tar + "2", env.ctx});
  REQUIRE(file.exit_code == 0);
  auto a = fs::read_file(tar);
  auto b = fs::read_file(tar + "2");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == *b);  // deterministic
}

TEST_CASE("build --output type=oci and type=docker write archives peers read") {
  if (!can_run()) return;
  Env env;
  std::string oci = env.dir.path() + "/img-oci.tar";
  std::string docker = env.dir.path() + "/img-docker.tar";
  auto built = env.imgbuild({"build", "-q", "-t", "out:1", "--output", "type=oci,dest=" + oci,
                             "--output", "type=docker,dest=" + docker, env.ctx});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  auto listing = env.sh("tar -tf " + docker);
  CHECK(listing.out.find("manifest.json") != std::string::npos);
  // Loaded into a fresh store, the Docker archive is the same image.
  auto loaded =
      run_process({IMGBUILD_BINARY, "--root", env.dir.path() + "/store2", "load", "-i", docker});
  REQUIRE(loaded);
  CHECK(loaded->exit_code == 0);
  if (env.sh("command -v skopeo && command -v umoci").exit_code != 0) {
    ::imgbuild::testing::skip("skopeo/umoci missing: the OCI archive checks need them");
    return;
  }
  auto inspected = env.sh("skopeo inspect oci-archive:" + oci);
  INFO(inspected.out + inspected.err);
  CHECK(inspected.exit_code == 0);
  CHECK(inspected.out.find("\"Digest\"") != std::string::npos);
  auto unpacked =
      env.sh("cd " + env.dir.path() + " && mkdir layout && tar -xf " + oci + " -C layout && " +
             "umoci unpack --image layout:docker.io/library/out:1 bundle && cat "
             "bundle/rootfs/app/file.txt");
  INFO(unpacked.out + unpacked.err);
  CHECK(unpacked.exit_code == 0);
  CHECK(unpacked.out.find("context file") != std::string::npos);
}

TEST_CASE("bad --output values are refused before building") {
  if (!can_run()) return;
  Env env;
  auto unknown = env.imgbuild({"build", "-o", "type=cacheonly", env.ctx});
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.err.find("unsupported output type \"cacheonly\"") != std::string::npos);
  auto two = env.imgbuild({"build", "-o", "-", "-o", "type=oci", env.ctx});
  CHECK(two.exit_code != 0);
  CHECK(two.err.find("only one output can go to stdout") != std::string::npos);
}
