// `build --cache-to type=local` / `--cache-from type=local` (builder/cache_layout.h): two stores
// stand for two CI runners that share only a directory. Needs root and /dev/fuse.
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
    return ::imgbuild::testing::skip("build cache tests need root and /dev/fuse");
  }
  return true;
}

struct Runners {
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-cache-it-").value();
  std::string ctx = dir.path() + "/ctx";
  std::string cache = dir.path() + "/cache";

  ProcessResult imgbuild(const std::string& runner, std::vector<std::string> args) {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root", dir.path() + "/" + runner};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = std::vector<std::string>{"PATH=/usr/bin:/bin", "SOURCE_DATE_EPOCH=1700000000"};
    auto r = run_process(argv, options);
    REQUIRE(r);
    return *r;
  }

  Runners() {
    // Runner A imports the base; B gets the same image (same digest) through an archive.
    testing::import_busybox(dir.path() + "/a", "busybox:latest", dir.path() + "/busybox.tar");
    REQUIRE(imgbuild("a", {"save", "-o", dir.path() + "/base.tar", "busybox"}).exit_code == 0);
    REQUIRE(imgbuild("b", {"load", "-i", dir.path() + "/base.tar"}).exit_code == 0);
    REQUIRE(fs::make_dirs(ctx));
    REQUIRE(fs::write_file_atomic(ctx + "/Dockerfile",
                                  "FROM busybox AS tool\nRUN echo tool > /tool\n"
                                  "FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b\n"
                                  "COPY --from=tool /tool /tool\nCOPY c.txt /c.txt\n"
                                  "RUN wc -c /c.txt > /d\n"));
    REQUIRE(fs::write_file_atomic(ctx + "/a.txt", "a\n"));
    REQUIRE(fs::write_file_atomic(ctx + "/c.txt", "c\n"));
  }
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

}  // namespace

TEST_CASE("a cache exported by one store makes every step CACHED in an empty one") {
  if (!can_run()) return;
  Runners r;
  auto a = r.imgbuild(
      "a", {"build", "-q", "--cache-to", "type=local,dest=" + r.cache + ",mode=max", r.ctx});
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  auto b = r.imgbuild("b", {"build", "--progress", "plain", "--cache-from",
                            "type=local,src=" + r.cache, "--iidfile", r.dir.path() + "/id", r.ctx});
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  CHECK(count(b.err, "cache miss") == 0);
  CHECK(count(b.err, " CACHED") == 6);
  auto id = fs::read_file(r.dir.path() + "/id");
  REQUIRE(id);
  CHECK(a.out == *id + "\n");  // the same image

  // One context file changes: the steps from its COPY on run, the ones before stay cached.
  REQUIRE(fs::write_file_atomic(r.ctx + "/c.txt", "changed\n"));
  auto changed = r.imgbuild(
      "b", {"build", "--progress", "plain", "--cache-from", "type=local,src=" + r.cache, r.ctx});
  INFO(changed.err);
  REQUIRE(changed.exit_code == 0);
  CHECK(count(changed.err, " CACHED") == 4);  // tool RUN, COPY a.txt, RUN cat, COPY --from
  CHECK(changed.err.find("cache miss: file c.txt changed") != std::string::npos);
  CHECK(count(changed.err, "cache miss") == 2);
}

TEST_CASE("mode=min exports only the target stage's records") {
  if (!can_run()) return;
  Runners r;
  REQUIRE(r.imgbuild("a", {"build", "-q", "--cache-to", "type=local,dest=" + r.cache, r.ctx})
              .exit_code == 0);
  auto b = r.imgbuild(
      "b", {"build", "--progress", "plain", "--cache-from", "type=local,src=" + r.cache, r.ctx});
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  CHECK(b.err.find("imported 5 cache records") != std::string::npos);
  CHECK(count(b.err, "cache miss") == 1);  // the tool stage's RUN
}

TEST_CASE("a missing, foreign or tampered cache is a warning and never used") {
  if (!can_run()) return;
  Runners r;
  auto missing =
      r.imgbuild("b", {"build", "-q", "--cache-from", "type=local,src=" + r.dir.path() + "/none",
                       "--cache-from", "localhost:1/app:cache", r.ctx});
  INFO(missing.err);
  CHECK(missing.exit_code == 0);
  CHECK(missing.err.find("no cache there") != std::string::npos);
  CHECK(missing.err.find("[Warning] --cache-from localhost:1/app:cache: ") != std::string::npos);

  REQUIRE(r.imgbuild("a", {"build", "-q", "--cache-to", "type=local,dest=" + r.cache + ",mode=max",
                           r.ctx})
              .exit_code == 0);
  // Flip one byte in every layer blob of the cache (tars: "ustar" at 257; documents stay intact).
  auto flipped =
      run_process({"sh", "-c",
                   "for f in \"$0\"/blobs/sha256/*; do "
                   "[ \"$(dd if=\"$f\" bs=1 skip=257 count=5 2>/dev/null)\" = ustar ] || continue; "
                   "printf X | dd of=\"$f\" bs=1 seek=700 conv=notrunc 2>/dev/null; done",
                   r.cache});
  REQUIRE(flipped);
  REQUIRE(flipped->exit_code == 0);
  auto b = r.imgbuild("c", {"load", "-i", r.dir.path() + "/base.tar"});
  REQUIRE(b.exit_code == 0);
  auto built = r.imgbuild(
      "c", {"build", "--progress", "plain", "--cache-from", "type=local,src=" + r.cache, r.ctx});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CHECK(built.err.find("blob digest mismatch") != std::string::npos);
  CHECK(count(built.err, " CACHED") == 0);
  auto ran = r.imgbuild("c", {"run", "--rm", "--network", "none", "busybox", "true"});
  CHECK(ran.exit_code == 0);
}

TEST_CASE("--cache-to types imgbuild does not have are refused by name") {
  if (!can_run()) return;
  Runners r;
  auto refused = r.imgbuild("a", {"build", "--cache-to", "type=gha", r.ctx});
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("--cache-to type=gha is not implemented") != std::string::npos);
}
