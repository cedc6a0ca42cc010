// Pull and push against the fault-injecting registry: every fault ends in success after a retry
// or a clear error, with the store unchanged.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "image/store.h"
#include "registry-client/pull.h"
#include "registry-client/push.h"
#include "tests/integration/registry/fault_registry.h"
#include "tests/integration/registry/test_image.h"

using namespace imgbuild;
using namespace imgbuild::testing;
using std::chrono::milliseconds;

namespace {

struct Fixture {
  fs::TempDir tmp = std::move(*fs::TempDir::create("/tmp", "imgbuild-fault-"));
  image::Store store = std::move(*image::Store::open(tmp.path() + "/store"));
  FaultRegistry reg;
  TestImage img;
  std::vector<milliseconds> sleeps;

  explicit Fixture(int layers = 3) {
    REQUIRE(fs::make_dirs(tmp.path() + "/img"));
    auto made = make_test_image(tmp.path() + "/img", layers, LayerCompression::kGzip, "fault");
    REQUIRE(made);
    img = std::move(*made);
    for (const auto& l : img.layers) reg.put_blob("app", l.digest, l.bytes);
    reg.put_blob("app", img.config.digest, img.config.bytes);
    reg.put_manifest("app", "1", img.manifest.bytes, img.manifest.media_type);
  }

  template <class Options>
  Options options() {
    Options o;
    o.docker_config_dir = tmp.path() + "/docker";  // no credentials
    o.sleep = [this](milliseconds d) { sleeps.push_back(d); };
    return o;
  }

  image::Reference ref(const std::string& text) {
    auto r = image::Reference::parse(reg.host() + "/" + text);
    REQUIRE(r);
    return *r;
  }

  Result<registry::PullResult> pull(const std::string& text = "app:1") {
    return registry::pull_image(store, ref(text), options<registry::PullOptions>());
  }

  // What "the store unchanged" means: the same index.json, nothing left in tmp/, no blob of the
  // image's layers.
  std::string snapshot() {
    auto index = fs::read_file(store.root() + "/index.json");
    auto tmp_list = must_run({"ls", "-A", store.root() + "/tmp"});
    std::string blobs;
    for (const auto& l : img.layers)
      blobs += store.has_blob(*image::Digest::parse(l.digest)) ? "1" : "0";
    return index.value_or("") + "|" + tmp_list.value_or("?") + "|" + blobs;
  }

  void check_rootfs(const registry::PullResult& result) {
    auto loaded = store.load_image(result.manifest_digest);
    REQUIRE(loaded);
    auto dirs = store.prepare_layers(*loaded);
    REQUIRE(dirs);
    std::string merged = tmp.path() + "/merged";
    REQUIRE(merge_layers(*dirs, merged));
    CHECK(*tree_listing(merged) == *tree_listing(img.rootfs));
  }
};

}  // namespace

TEST_CASE("pull through the bearer token flow") {
  Fixture f;
  f.reg.bearer = true;
  auto r = f.pull();
  REQUIRE(r);
  CHECK(f.reg.token_requests.load() >= 1);
  CHECK(r->manifest_digest.str() == f.img.manifest.digest);
  CHECK(r->layers_fetched == 3);
  f.check_rootfs(*r);
  auto resolved = f.store.resolve(f.reg.host() + "/app:1");
  REQUIRE(resolved);
  CHECK(resolved->manifest_digest == r->manifest_digest);
}

TEST_CASE("pull retries 429 with Retry-After and 503, then succeeds") {
  Fixture f;
  f.reg.rate_limit = 1;
  f.reg.server_errors = 2;
  auto r = f.pull();
  REQUIRE(r);
  REQUIRE(f.sleeps.size() == 3);
  CHECK(f.sleeps[0] == milliseconds(1000));  // Retry-After: 1
  f.check_rootfs(*r);
}

TEST_CASE("a registry that keeps failing gives an error naming registry, repository and status") {
  Fixture f;
  std::string before = f.snapshot();
  f.reg.server_errors = 1000;
  auto r = f.pull();
  REQUIRE(!r);
  CHECK(r.error().message() == "pulling " + f.reg.host() +
                                   "/app:1: GET manifest 1: " + f.reg.host() +
                                   "/app: HTTP 503 Service Unavailable: UNAVAILABLE: try later");
  CHECK(f.snapshot() == before);
}

TEST_CASE("a connection cut mid-blob is retried and the pull succeeds") {
  Fixture f;
  f.reg.cut_blob = 2;
  auto r = f.pull();
  REQUIRE(r);
  f.check_rootfs(*r);
}

TEST_CASE("a blob cut mid-way is resumed with Range: bytes=N- and a 206, not downloaded again") {
  Fixture f(1);
  const auto& layer = f.img.layers[0];
  f.reg.cut_only(layer.digest);
  f.reg.cut_blob = 1;
  auto r = f.pull();
  REQUIRE(r);
  // The cut registry sends the first half of the blob, then closes the connection.
  CHECK(f.reg.range_headers() ==
        std::vector<std::string>{"bytes=" + std::to_string(layer.bytes.size() / 2) + "-"});
  CHECK(f.reg.partial_responses.load() == 1);
  CHECK(*f.store.read_blob(*image::Digest::parse(layer.digest)) == layer.bytes);
  f.check_rootfs(*r);
}

TEST_CASE("a cut download from a registry that ignores Range still yields the right blob") {
  Fixture f(1);
  const auto& layer = f.img.layers[0];
  f.reg.cut_only(layer.digest);
  f.reg.cut_blob = 1;
  f.reg.ignore_range = true;
  auto r = f.pull();
  REQUIRE(r);
  CHECK(f.reg.range_requests.load() == 1);
  CHECK(f.reg.partial_responses.load() == 0);
  CHECK(*f.store.read_blob(*image::Digest::parse(layer.digest)) == layer.bytes);
  f.check_rootfs(*r);
}

TEST_CASE("blob bytes that do not match the digest are an error and nothing enters the store") {
  Fixture f(1);
  std::string before = f.snapshot();
  f.reg.corrupt_blobs = true;
  auto r = f.pull();
  REQUIRE(!r);
  CHECK(r.error().kind() == ErrorKind::kCorrupt);
  std::string msg = r.error().message();
  INFO(msg);
  CHECK(msg.starts_with("pulling " + f.reg.host() + "/app:1: "));
  CHECK(msg.find("digest mismatch") != std::string::npos);
  CHECK(f.snapshot() == before);
  CHECK_FALSE(f.store.resolve(f.reg.host() + "/app:1"));
}

TEST_CASE("a hostile layer is refused while it downloads and neither blob nor layer is kept") {
  Fixture f(1);
  std::string before = f.snapshot();
  std::string corpus = f.tmp.path() + "/hostile";
  REQUIRE(
      must_run({"python3", IMGBUILD_TESTDATA_DIR "/hostile-tars/make-hostile-tars.py", corpus}));
  std::string tar = *fs::read_file(corpus + "/dotdot.tar");
  std::string layer_digest = image::Digest::of(tar).str();
  nlohmann::json config = {{"architecture", "amd64"},
                           {"os", "linux"},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", {layer_digest}}}}};
  std::string config_bytes = config.dump();
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config",
                              {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                               {"digest", image::Digest::of(config_bytes).str()},
                               {"size", config_bytes.size()}}},
                             {"layers",
                              {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                {"digest", layer_digest},
                                {"size", tar.size()}}}}};
  f.reg.put_blob("evil", layer_digest, tar);
  f.reg.put_blob("evil", image::Digest::of(config_bytes).str(), config_bytes);
  f.reg.put_manifest("evil", "1", manifest.dump(), "application/vnd.oci.image.manifest.v1+json");

  auto r = f.pull("evil:1");
  REQUIRE(!r);
  std::string msg = r.error().message();
  INFO(msg);
  CHECK(msg.find("unpacking layer " + layer_digest) != std::string::npos);
  CHECK(msg.find("path escapes the layer root") != std::string::npos);
  CHECK(f.snapshot() == before);
  CHECK_FALSE(f.store.has_blob(*image::Digest::parse(layer_digest)));
  CHECK_FALSE(f.store.has_layer(*image::Digest::parse(layer_digest)));
  CHECK_FALSE(f.store.resolve(f.reg.host() + "/evil:1"));
}

TEST_CASE("a 307 to another host is followed without sending the registry's credentials") {
  Fixture f;
  f.reg.bearer = true;
  f.reg.redirect_blobs = true;
  auto r = f.pull();
  REQUIRE(r);
  CHECK(f.reg.redirected_downloads.load() == 4);  // three layers and the config
  CHECK(f.reg.redirected_with_auth.load() == 0);
  f.check_rootfs(*r);
}

TEST_CASE("push falls back to chunked upload when the registry refuses a monolithic PUT") {
  Fixture f;
  REQUIRE(f.pull());
  f.reg.chunked_only = true;
  f.reg.fail_mounts = true;  // or the blobs would be mounted from app
  auto o = f.options<registry::PushOptions>();
  o.chunk_size = 64 * 1024;
  auto r = registry::push_image(f.store, f.reg.host() + "/app:1", f.ref("other:2"), o);
  REQUIRE(r);
  CHECK(r->manifest_digest.str() == f.img.manifest.digest);
  CHECK(f.reg.patch_requests.load() >= 4);
  CHECK(f.reg.manifest("other", "2") == f.img.manifest.bytes);
  for (const auto& l : f.img.layers) CHECK(f.reg.has_blob("other", l.digest));
}

TEST_CASE("push mounts blobs from the repository they were pulled from") {
  Fixture f;
  f.reg.bearer = true;
  REQUIRE(f.pull());
  auto r = registry::push_image(f.store, f.reg.host() + "/app:1", f.ref("copy:1"),
                                f.options<registry::PushOptions>());
  REQUIRE(r);
  CHECK(r->blobs_mounted == 4);
  CHECK(r->blobs_uploaded == 0);
  CHECK(f.reg.mounts.load() == 4);
  CHECK(f.reg.manifest("copy", "1") == f.img.manifest.bytes);
}

TEST_CASE("a failing mount falls back to an upload") {
  Fixture f;
  REQUIRE(f.pull());
  f.reg.fail_mounts = true;
  auto r = registry::push_image(f.store, f.reg.host() + "/app:1", f.ref("copy:1"),
                                f.options<registry::PushOptions>());
  REQUIRE(r);
  CHECK(r->blobs_mounted == 0);
  CHECK(r->blobs_uploaded == 4);
  for (const auto& l : f.img.layers) CHECK(f.reg.has_blob("copy", l.digest));
  // Pushing again finds everything present.
  auto again = registry::push_image(f.store, f.reg.host() + "/app:1", f.ref("copy:1"),
                                    f.options<registry::PushOptions>());
  REQUIRE(again);
  CHECK(again->blobs_existing == 4);
}

TEST_CASE("wrong credentials for the token service are a clear error without the secret") {
  Fixture f;
  std::string before = f.snapshot();
  f.reg.bearer = true;
  f.reg.token_user = "alice";
  f.reg.token_password = "right-password";
  auto o = f.options<registry::PullOptions>();
  o.credential = registry::Credential{.username = "alice", .password = "wrong-password"};
  auto r = registry::pull_image(f.store, f.ref("app:1"), o);
  REQUIRE(!r);
  CHECK(r.error().message() == "pulling " + f.reg.host() + "/app:1: token service http://" +
                                   f.reg.host() + "/token for " + f.reg.host() +
                                   ": authentication failed for user \"alice\" (HTTP 401)");
  CHECK(f.snapshot() == before);
  o.credential = registry::Credential{.username = "alice", .password = "right-password"};
  REQUIRE(registry::pull_image(f.store, f.ref("app:1"), o));
}

TEST_CASE("an image missing from the registry is kNotFound naming the reference") {
  Fixture f;
  auto r = f.pull("nope:1");
  REQUIRE(!r);
  CHECK(r.error().kind() == ErrorKind::kNotFound);
  CHECK(r.error().message() == "pulling " + f.reg.host() +
                                   "/nope:1: GET manifest 1: " + f.reg.host() +
                                   "/nope: HTTP 404 Not Found: MANIFEST_UNKNOWN: manifest unknown");
}

namespace {

// One malicious registry, one repository per attack. Each pull must fail at once with the exact
// error listed, read no more than a few MiB from the registry, and leave the store as it was.
struct MaliciousRegistry : Fixture {
  struct Attack {
    std::string repo;
    std::string error;  // the whole message, "pulling <ref>: ..."
  };
  std::vector<Attack> attacks;
  static constexpr const char* kPwned = "/tmp/imgbuild-malicious-registry-pwned";

  MaliciousRegistry() : Fixture(1) {
    const std::string h = reg.host();
    nlohmann::json config = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + std::string(64, 'd')}}}}};
    const std::string good_config = config.dump();
    const std::string unused_layer = image::Digest::of("unused").str();

    // A layer digest that is a path: refused when the manifest is parsed, before any request.
    const std::string traversal = "sha256:../../../../../../.." + std::string(kPwned);
    publish("evil/traversal", good_config, -1, layer(traversal, 10));
    attacks.push_back(
        {"evil/traversal", "pulling " + h + "/evil/traversal:1: manifest " +
                               manifest_digest("evil/traversal") +
                               ": manifest: layers[0]: descriptor: invalid digest \"" + traversal +
                               "\": sha256 needs 64 lowercase hex characters"});

    // A 200 MB manifest: no more than kMaxManifestBytes of it is read.
    reg.put_huge_manifest("evil/huge-manifest", "1", uint64_t{200} << 20);
    attacks.push_back({"evil/huge-manifest",
                       "pulling " + h + "/evil/huge-manifest:1: manifest 1: " + h +
                           "/evil/huge-manifest sent more than 4 MiB, the limit for a manifest "
                           "or index"});

    // A 200 MB error body: cut after kMaxErrorBodyBytes, the status is still reported.
    reg.put_huge_manifest("evil/huge-error", "1", uint64_t{200} << 20, 404);
    attacks.push_back({"evil/huge-error", "pulling " + h + "/evil/huge-error:1: GET manifest 1: " +
                                              h + "/evil/huge-error: HTTP 404 Not Found: {"});

    // A config that declares 10 GB and streams without end: refused before it is requested.
    const std::string huge = image::Digest::of("huge config").str();
    publish("evil/huge-config", "huge config", int64_t{10} << 30, layer(unused_layer, 10));
    reg.serve_endless(huge);
    attacks.push_back({"evil/huge-config", "pulling " + h + "/evil/huge-config:1: config " + huge +
                                               ": the manifest declares 10737418240 bytes, more "
                                               "than the 8 MiB limit for a config"});

    // A config that declares its true size, then streams without end.
    const std::string endless_config = image::Digest::of("{}").str();
    publish("evil/endless-config", "{}", -1, layer(unused_layer, 10));
    reg.serve_endless(endless_config);
    attacks.push_back(
        {"evil/endless-config", "pulling " + h + "/evil/endless-config:1: config " +
                                    endless_config + ": " + h +
                                    "/evil/endless-config sent more than the 2 bytes the manifest "
                                    "declares"});

    // A layer that streams without end: cut at its declared size.
    const std::string endless = layer_blob("evil/endless-blob", "endless layer");
    publish("evil/endless-blob", good_config, -1, layer(endless, 13));
    reg.serve_endless(endless);
    attacks.push_back(
        {"evil/endless-blob", "pulling " + h + "/evil/endless-blob:1: blob " + endless + ": " + h +
                                  "/evil/endless-blob: registry sent more than the 13 bytes the "
                                  "manifest declares"});

    // A layer cut short: half the bytes, with a Content-Length to match.
    const std::string short_blob = layer_blob("evil/short-blob", std::string(4096, 's'));
    publish("evil/short-blob", good_config, -1, layer(short_blob, 4096));
    reg.serve_short(short_blob);
    attacks.push_back({"evil/short-blob", "pulling " + h + "/evil/short-blob:1: blob " +
                                              short_blob +
                                              ": truncated: received 2048 of 4096 bytes"});

    // A layer whose download redirects to a local file.
    const std::string redirected = layer_blob("evil/redirect-file", "redirected layer");
    publish("evil/redirect-file", good_config, -1, layer(redirected, 16));
    reg.redirect_blob(redirected, "file:///etc/passwd");
    attacks.push_back({"evil/redirect-file",
                       "pulling " + h + "/evil/redirect-file:1: blob " + redirected +
                           ": GET http://" + h + "/v2/evil/redirect-file/blobs/" + redirected +
                           ": redirect to \"file:///etc/passwd\" refused: only http and https "
                           "URLs are followed"});
  }

  static nlohmann::json layer(const std::string& digest, int64_t size) {
    return {{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
            {"digest", digest},
            {"size", size}};
  }
  std::string layer_blob(const std::string& repo, const std::string& bytes) {
    std::string digest = image::Digest::of(bytes).str();
    reg.put_blob(repo, digest, bytes);
    return digest;
  }
  // Serves config_bytes as the repository's config, declared with config_size (-1: its size),
  // and a manifest "1" of that config and the one layer.
  void publish(const std::string& repo, const std::string& config_bytes, int64_t config_size,
               const nlohmann::json& layer_desc) {
    std::string config_digest = image::Digest::of(config_bytes).str();
    reg.put_blob(repo, config_digest, config_bytes);
    nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", config_digest},
          {"size", config_size < 0 ? static_cast<int64_t>(config_bytes.size()) : config_size}}},
        {"layers", {layer_desc}}};
    manifests_[repo] = manifest.dump();
    reg.put_manifest(repo, "1", manifests_[repo], "application/vnd.oci.image.manifest.v1+json");
  }
  std::string manifest_digest(const std::string& repo) {
    return image::Digest::of(manifests_[repo]).str();
  }

 private:
  std::map<std::string, std::string> manifests_;
};

}  // namespace

TEST_CASE("a malicious registry gets a clear error for each attack and the store stays as it was") {
  MaliciousRegistry m;
  std::string before = m.snapshot();
  for (const auto& attack : m.attacks) {
    INFO(attack.repo);
    m.reg.generated_bytes = 0;
    auto started = std::chrono::steady_clock::now();
    auto r = m.pull(attack.repo + ":1");
    REQUIRE(!r);
    CHECK(r.error().message() == attack.error);
    // Endless bodies are abandoned once the cap is reached; what the registry wrote beyond
    // that is what the sockets buffered.
    CHECK(m.reg.generated_bytes.load() < (uint64_t{32} << 20));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    CHECK(m.snapshot() == before);
    CHECK_FALSE(m.store.resolve(m.reg.host() + "/" + attack.repo + ":1"));
  }
  CHECK_FALSE(fs::exists(MaliciousRegistry::kPwned));
  CHECK(must_run({"ls", "-A", m.store.root() + "/blobs/sha256"}).value_or("?") == "");
  CHECK(must_run({"ls", "-A", m.store.root() + "/layers/sha256"}).value_or("?") == "");
}
