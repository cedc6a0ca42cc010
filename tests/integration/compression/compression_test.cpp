// Compression only where bytes leave the machine (issue 16): a build commits uncompressed tar
// layers and never runs a compressor; push compresses them once, records the compressed variants,
// and a second push compresses and uploads nothing; skopeo reads what was pushed; two stores
// building with SOURCE_DATE_EPOCH push the same manifest. Real builds (imgfs, namespaces) and a
// real registry (Debian's docker-registry). Needs root, /dev/fuse, docker-registry and skopeo.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/support/busybox_image.h"
#include "tests/support/registry_server.h"
#include "tests/support/skip.h"

using namespace imgbuild;

namespace {

bool can_run() {
  if (::geteuid() != 0 || !fs::exists("/dev/fuse")) {
    return testing::skip("compression integration tests need root and /dev/fuse");
  }
  if (!testing::RegistryServer::available() || !fs::exists("/usr/bin/skopeo")) {
    return testing::skip("compression integration tests need docker-registry and skopeo");
  }
  return true;
}

constexpr const char* kDockerfile =
    "FROM busybox:latest\n"
    "RUN mkdir -p /data && seq 1 200000 > /data/numbers && echo built > /data/note\n"
    "COPY hello.txt /data/hello.txt\n"
    "ENV GREETING=hi\n";

struct Env {
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-compression-it-").value();
  std::string context = dir.path() + "/context";
  std::string busybox_tar = dir.path() + "/busybox.tar";

  Env() {
    REQUIRE(fs::make_dirs(context));
    REQUIRE(fs::write_file_atomic(context + "/Dockerfile", kDockerfile));
    REQUIRE(fs::write_file_atomic(context + "/hello.txt", "hello\n"));
  }

  std::string store(const std::string& name) { return dir.path() + "/" + name; }

  ProcessResult imgbuild(const std::string& store_root, std::vector<std::string> args) {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root", store_root};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    std::vector<std::string> env{"SOURCE_DATE_EPOCH=1700000000"};
    for (char** e = environ; *e != nullptr; ++e) {
      if (!std::string_view(*e).starts_with("SOURCE_DATE_EPOCH=")) env.emplace_back(*e);
    }
    options.env = env;
    auto r = run_process(argv, options);
    REQUIRE(r);
    return *r;
  }

  // Builds the Dockerfile as app:1 into a fresh store holding busybox; returns the image ID.
  // Stores are copies of one import (an import's config records when it ran).
  std::string build(const std::string& store_root) {
    std::string base = store("base");
    if (!fs::exists(base)) testing::import_busybox(base, "busybox:latest", busybox_tar);
    auto copied = run_process({"cp", "-a", base, store_root});
    REQUIRE(copied);
    REQUIRE(copied->exit_code == 0);
    auto built = imgbuild(store_root, {"-D", "build", "-t", "app:1", "-q", context});
    INFO(built.err);
    REQUIRE(built.exit_code == 0);
    // The build compressed nothing: its layers are the uncompressed tar blobs.
    CHECK(built.err.find("stats: 0 compressed bytes produced") != std::string::npos);
    return built.out.substr(0, built.out.find('\n'));
  }
};

ProcessResult run(std::vector<std::string> argv) {
  auto r = run_process(argv);
  REQUIRE(r);
  return *r;
}

nlohmann::json skopeo_raw(const std::string& source) {
  auto r = run({"skopeo", "inspect", "--raw", "--tls-verify=false", source});
  INFO(source << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(needle, p)) != std::string::npos; p += needle.size()) ++n;
  return n;
}

}  // namespace

TEST_CASE("a build compresses nothing; push compresses once and a second push uploads nothing") {
  if (!can_run()) return;
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  Env env;
  std::string a = env.store("a");
  std::string image_id = env.build(a);

  // The store stays an OCI layout other tools read, with the built layers as plain tars.
  auto local = skopeo_raw("oci:" + a + ":docker.io/library/app:1");
  REQUIRE(local["layers"].size() == 3);
  CHECK(local["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(local["layers"][1]["mediaType"] == "application/vnd.oci.image.layer.v1.tar");
  CHECK(local["layers"][2]["mediaType"] == "application/vnd.oci.image.layer.v1.tar");
  CHECK(local["config"]["digest"] == image_id);

  std::string dest = reg.host() + "/compression/app:1";
  auto pushed = env.imgbuild(a, {"-D", "push", "app:1", dest});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  CHECK(pushed.err.find("stats: 0 compressed bytes produced") == std::string::npos);
  CHECK(pushed.err.find(" compressed bytes produced") != std::string::npos);
  CHECK(count(pushed.out, ": Pushed\n") == 4);  // two built layers, base layer, config

  auto remote = skopeo_raw("docker://" + dest);
  REQUIRE(remote["layers"].size() == 3);
  for (const auto& l : remote["layers"]) {
    CHECK(l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip");
  }
  CHECK(remote["layers"][0] == local["layers"][0]);  // the base keeps its blob
  CHECK(remote["config"]["digest"] == image_id);     // the image ID does not change
  // skopeo copies every blob and verifies its digest on the way.
  auto copied = run({"skopeo", "copy", "--src-tls-verify=false", "docker://" + dest,
                     "dir:" + env.dir.path() + "/copied"});
  INFO(copied.err);
  CHECK(copied.exit_code == 0);

  auto again = env.imgbuild(a, {"-D", "push", "app:1", dest});
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("stats: 0 compressed bytes produced") != std::string::npos);
  CHECK(count(again.out, ": Pushed\n") == 0);
  CHECK(count(again.out, ": Layer already exists\n") == 4);
  std::string digest_line = pushed.out.substr(pushed.out.rfind("1: digest: "));
  CHECK(again.out.substr(again.out.rfind("1: digest: ")) == digest_line);

  // zstd is another variant of the same layers, beside the gzip one.
  std::string zdest = reg.host() + "/compression/app:zstd";
  auto zpushed = env.imgbuild(a, {"push", "--compression", "zstd", "app:1", zdest});
  INFO(zpushed.err);
  REQUIRE(zpushed.exit_code == 0);
  auto zremote = skopeo_raw("docker://" + zdest);
  CHECK(zremote["layers"][0] == local["layers"][0]);
  CHECK(zremote["layers"][1]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd");
  CHECK(zremote["config"]["digest"] == image_id);

  // The same build in a second store pushes the same manifest: compression is deterministic.
  std::string b = env.store("b");
  CHECK(env.build(b) == image_id);
  std::string bdest = reg.host() + "/compression/app-b:1";
  auto bpushed = env.imgbuild(b, {"push", "app:1", bdest});
  INFO(bpushed.err);
  REQUIRE(bpushed.exit_code == 0);
  CHECK(bpushed.out.substr(bpushed.out.rfind("1: digest: ")) == digest_line);
}

TEST_CASE("save compresses built layers; prune keeps variants of live layers only") {
  if (!can_run()) return;
  Env env;
  std::string a = env.store("a");
  env.build(a);
  std::string archive = env.dir.path() + "/app.tar";
  auto saved = env.imgbuild(
      a, {"-D", "save", "--format", "oci", "--compression", "zstd", "-o", archive, "app:1"});
  INFO(saved.err);
  REQUIRE(saved.exit_code == 0);
  CHECK(saved.err.find("stats: 0 compressed bytes produced") == std::string::npos);
  auto layout = skopeo_raw("oci-archive:" + archive + ":docker.io/library/app:1");
  REQUIRE(layout["layers"].size() == 3);
  CHECK(layout["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(layout["layers"][1]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd");
  CHECK(layout["layers"][2]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd");

  // A second save reuses the variants.
  auto again = env.imgbuild(
      a, {"-D", "save", "--format", "oci", "--compression", "zstd", "-o", archive, "app:1"});
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("stats: 0 compressed bytes produced") != std::string::npos);

  auto variants = [&] {
    auto r = run({"sh", "-c", "ls " + a + "/variants/sha256 | wc -l"});
    return r.out;
  };
  CHECK(variants() == "2\n");
  auto pruned = env.imgbuild(a, {"prune"});
  REQUIRE(pruned.exit_code == 0);
  CHECK(variants() == "2\n");  // app:1 still tagged: its layers and their variants stay
  REQUIRE(env.imgbuild(a, {"rmi", "app:1"}).exit_code == 0);
  auto cleared = run({"sh", "-c", "rm -rf " + a + "/cache/records/*"});
  REQUIRE(cleared.exit_code == 0);
  REQUIRE(env.imgbuild(a, {"prune"}).exit_code == 0);
  CHECK(variants() == "0\n");
}
