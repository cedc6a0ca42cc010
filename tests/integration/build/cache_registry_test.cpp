// `build --cache-to type=registry|inline` / `--cache-from REF` (builder/cache_registry.h,
// builder/cache_inline.h): stores that share nothing but a real registry (Debian's
// docker-registry) stand for CI runners that start empty. Needs root and /dev/fuse.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/support/busybox_image.h"
#include "tests/support/registry_server.h"
#include "tests/support/skip.h"

using namespace imgbuild;
using testing::RegistryServer;

namespace {

bool can_run() {
  if (::geteuid() != 0 || !fs::exists("/dev/fuse")) {
    return ::imgbuild::testing::skip("registry cache tests need root and /dev/fuse");
  }
  if (!RegistryServer::available()) {
    return ::imgbuild::testing::skip("docker-registry is not installed");
  }
  return true;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

// "pushed REF@sha256:..." from a build's notes.
std::string pushed_digest(const std::string& err) {
  size_t at = err.find("pushed ");
  if (at == std::string::npos) return "";
  at = err.find('@', at);
  return err.substr(at + 1, err.find('\n', at) - at - 1);
}

struct Runners {
  RegistryServer& reg = RegistryServer::shared(RegistryServer::Auth::kNone);
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-regcache-it-").value();
  std::string ctx = dir.path() + "/ctx";
  // Names and content unique to this run: the registry is shared with other tests.
  std::string tag = std::to_string(::getpid()) + "-" + std::to_string(std::rand());
  std::string repo = reg.host() + "/regcache-" + tag;

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
    testing::import_busybox(dir.path() + "/a", "busybox:latest", dir.path() + "/busybox.tar");
    auto pushed = imgbuild("a", {"push", "busybox", repo + "-base:1"});
    INFO(pushed.err);
    REQUIRE(pushed.exit_code == 0);
    REQUIRE(fs::make_dirs(ctx));
    REQUIRE(fs::write_file_atomic(
        ctx + "/Dockerfile", "FROM " + repo + "-base:1 AS tool\nRUN echo tool > /tool\n" + "FROM " +
                                 repo + "-base:1\nCOPY a.txt /a.txt\n" +
                                 "RUN cat /a.txt > /b\nCOPY --from=tool /tool /tool\n" +
                                 "COPY c.txt /c.txt\nRUN wc -c /c.txt > /d\n"));
    REQUIRE(fs::write_file_atomic(ctx + "/a.txt", "a " + tag + "\n"));
    REQUIRE(fs::write_file_atomic(ctx + "/c.txt", "c\n"));
  }

  // Files under the runner's layers/ (unpacked layers): none means no layer was fetched.
  size_t unpacked_layers(const std::string& runner) {
    auto listed = run_process(
        {"sh", "-c", "ls \"$0\"/layers/sha256 2>/dev/null | wc -l", dir.path() + "/" + runner});
    REQUIRE(listed);
    return std::stoul(listed->out);
  }
};

}  // namespace

TEST_CASE("a registry cache makes every step CACHED in an empty store, fetching no layer") {
  if (!can_run()) return;
  Runners r;
  auto a =
      r.imgbuild("a", {"build", "--progress", "plain", "-t", r.repo + ":1", "--push", "--cache-to",
                       "type=registry,ref=" + r.repo + ":cache,mode=max", r.ctx});
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  CHECK(a.err.find("exported 6 cache records to " + r.repo + ":cache") != std::string::npos);

  // Runner B starts empty: everything comes from the registry, and a --push needs no layer.
  auto b = r.imgbuild("b", {"build", "--progress", "plain", "-t", r.repo + ":2", "--push",
                            "--cache-from", "type=registry,ref=" + r.repo + ":cache", r.ctx});
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  CHECK(count(b.err, "cache miss") == 0);
  CHECK(count(b.err, "CACHED (from " + r.repo + ":cache)") == 6);
  CHECK(!pushed_digest(a.err).empty());
  CHECK(pushed_digest(b.err) == pushed_digest(a.err));  // the same image
  CHECK(r.unpacked_layers("b") == 0);

  // Running the image fetches what it needs, verified.
  auto ran =
      r.imgbuild("b", {"run", "--rm", "--network", "none", r.repo + ":2", "cat", "/b", "/tool"});
  INFO(ran.err);
  CHECK(ran.exit_code == 0);
  CHECK(ran.out == "a " + r.tag + "\ntool\n");

  // One context file changes: the steps from its COPY on run, the ones before stay cached.
  REQUIRE(fs::write_file_atomic(r.ctx + "/c.txt", "changed\n"));
  auto changed =
      r.imgbuild("b", {"build", "--progress", "plain", "--cache-from", r.repo + ":cache", r.ctx});
  INFO(changed.err);
  REQUIRE(changed.exit_code == 0);
  CHECK(count(changed.err, " CACHED") == 4);
  CHECK(changed.err.find("cache miss: file c.txt changed") != std::string::npos);
  CHECK(count(changed.err, "cache miss") == 2);
}

TEST_CASE("an image built with an inline cache is a cache for the next build") {
  if (!can_run()) return;
  Runners r;
  auto a = r.imgbuild("a", {"build", "--progress", "plain", "-t", r.repo + ":inline", "--push",
                            "--cache-to", "type=inline", r.ctx});
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  auto b =
      r.imgbuild("b", {"build", "--progress", "plain", "-t", r.repo + ":inline2", "--push",
                       "--cache-to", "type=inline", "--cache-from", r.repo + ":inline", r.ctx});
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  // mode=min, as BuildKit's inline cache: the target stage's steps; the tool stage's RUN runs.
  CHECK(count(b.err, "CACHED (from " + r.repo + ":inline)") == 5);
  CHECK(count(b.err, "cache miss") == 1);
  CHECK(pushed_digest(b.err) == pushed_digest(a.err));
}

TEST_CASE("a missing, foreign, unauthorized or tampered registry cache is never used") {
  if (!can_run()) return;
  Runners r;
  auto& locked = RegistryServer::shared(RegistryServer::Auth::kHtpasswd);
  auto warned =
      r.imgbuild("b", {"build", "-q", "--cache-from", r.repo + ":nothere", "--cache-from",
                       r.repo + "-base:1", "--cache-from", locked.host() + "/app:cache", r.ctx});
  INFO(warned.err);
  CHECK(warned.exit_code == 0);
  CHECK(warned.err.find("[Warning] --cache-from " + r.repo + ":nothere: ") != std::string::npos);
  CHECK(warned.err.find("MANIFEST_UNKNOWN") != std::string::npos);
  CHECK(warned.err.find(r.repo + "-base:1: not an imgbuild cache") != std::string::npos);
  CHECK(warned.err.find("[Warning] --cache-from " + locked.host() + "/app:cache: ") !=
        std::string::npos);
  CHECK(warned.err.find("401") != std::string::npos);

  auto a = r.imgbuild(
      "a", {"build", "-q", "--cache-to", "type=registry,ref=" + r.repo + ":cache,mode=max", r.ctx});
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  // Replace the bytes of every layer of the cache in the registry's storage.
  auto manifest = run_process({"sh", "-c",
                               "curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "
                               "http://$0/v2/$1/manifests/cache",
                               r.reg.host(), "regcache-" + r.tag});
  REQUIRE(manifest);
  REQUIRE(manifest->exit_code == 0);
  auto layers = nlohmann::json::parse(manifest->out).at("layers");
  REQUIRE(layers.size() >= 4);
  for (const auto& l : layers) {
    std::string hex = l.at("digest").get<std::string>().substr(7);
    std::string data = r.reg.dir() + "/data/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) +
                       "/" + hex + "/data";
    REQUIRE(fs::exists(data));
    REQUIRE(fs::write_file_atomic(data, "tampered"));
  }
  // A later step runs on the cached layers: they fail their digest, the steps run instead.
  REQUIRE(fs::write_file_atomic(r.ctx + "/c.txt", "changed\n"));
  auto built = r.imgbuild("d", {"build", "--progress", "plain", "-t", "tampered", "--cache-from",
                                r.repo + ":cache", r.ctx});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CHECK(built.err.find("building again without those cache records") != std::string::npos);
  auto ran = r.imgbuild("d", {"run", "--rm", "--network", "none", "tampered", "cat", "/b", "/d"});
  INFO(ran.err);
  CHECK(ran.exit_code == 0);
  CHECK(ran.out == "a " + r.tag + "\n8 /c.txt\n");
}

TEST_CASE("the examples and conformance Dockerfiles rebuild from a registry cache, unchanged") {
  if (!can_run()) return;
  Runners r;
  std::string src = IMGBUILD_SOURCE_DIR;
  std::vector<std::string> dirs = {src + "/examples/hello", src + "/examples/web"};
  for (const char* c : {"01-multistage", "02-whiteouts", "08-copy-paths", "09-copy-chown-chmod"}) {
    dirs.push_back(src + "/tests/conformance/cases/" + c);
  }
  int i = 0;
  for (const auto& d : dirs) {
    if (!fs::exists(d + "/Dockerfile")) continue;  // a case renamed: nothing to compare
    std::string ctx = r.dir.path() + "/case" + std::to_string(++i);
    std::string name = r.repo + "-case" + std::to_string(i);
    // The case's context, its busybox (FROM, COPY --from) pointed at the registry's copy.
    auto copied = run_process(
        {"sh", "-c",
         "cp -a \"$0\" \"$1\" && sed -E -i -e 's#^FROM busybox(:latest)?( |$)#FROM '\"$2\"'\\2#' "
         "-e 's#--from=busybox(:latest)?( |$)#--from='\"$2\"'\\2#' \"$1\"/Dockerfile",
         d, ctx, r.repo + "-base:1"});
    REQUIRE(copied);
    REQUIRE(copied->exit_code == 0);
    auto a = r.imgbuild("a", {"build", "--progress", "plain", "-t", name + ":a", "--push",
                              "--cache-to", "type=registry,ref=" + name + ":cache,mode=max", ctx});
    INFO(d);
    INFO(a.err);
    REQUIRE(a.exit_code == 0);
    std::string runner = "case-b" + std::to_string(i);  // empty, as a new CI runner
    auto b = r.imgbuild(runner, {"build", "--progress", "plain", "-t", name + ":b", "--push",
                                 "--cache-from", name + ":cache", ctx});
    INFO(b.err);
    REQUIRE(b.exit_code == 0);
    CHECK(count(b.err, "cache miss") == 0);
    CHECK(!pushed_digest(a.err).empty());
    CHECK(pushed_digest(b.err) == pushed_digest(a.err));
    CHECK(r.unpacked_layers(runner) == 0);
  }
  CHECK(i >= 5);
}
