// imgbuild against the real CNCF distribution registry, and interoperability with skopeo and
// umoci in both directions.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <thread>

#include "base/fs.h"
#include "base/subprocess.h"
#include "image/store.h"
#include "registry-client/pull.h"
#include "tests/integration/registry/test_image.h"
#include "tests/support/registry_server.h"
#include "tests/support/skip.h"

using namespace imgbuild;
using namespace imgbuild::testing;

extern char** environ;

namespace {

struct Run {
  int code = -1;
  std::string out, err;
};

// Runs the imgbuild binary with the store at root and DOCKER_CONFIG at docker_config.
Run run_cli(const std::vector<std::string>& args, const std::string& root,
            const std::string& docker_config, const std::string& input = "") {
  std::vector<std::string> argv = {IMGBUILD_BINARY, "--root", root};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions o;
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string v = *e;
    if (!v.starts_with("DOCKER_CONFIG=") && !v.starts_with("IMGBUILD_")) env.push_back(v);
  }
  env.push_back("DOCKER_CONFIG=" + docker_config);
  o.env = env;
  if (!input.empty()) o.stdin_data = input;
  auto r = run_process(argv, o);
  REQUIRE(r);
  return Run{r->exit_code, r->out, r->err};
}

bool have_tools() {
  if (!RegistryServer::available()) {
    return ::imgbuild::testing::skip(
        "docker-registry/htpasswd not installed (scripts/install-deps.sh test)");
  }
  for (const char* tool : {"/usr/bin/skopeo", "/usr/bin/umoci"}) {
    if (::access(tool, X_OK) != 0) {
      return ::imgbuild::testing::skip(std::string(tool) +
                                       " not installed (scripts/install-deps.sh test)");
    }
  }
  return true;
}

struct Env {
  fs::TempDir tmp = std::move(*fs::TempDir::create("/tmp", "imgbuild-regtest-"));
  std::string root = tmp.path() + "/store";
  std::string docker = tmp.path() + "/docker";

  // Makes an image with tar/gzip/zstd and pushes it with skopeo to host/repo.
  TestImage skopeo_push(const std::string& host, const std::string& repo, LayerCompression c,
                        int layers, const std::string& seed,
                        const std::vector<std::string>& creds = {}) {
    std::string work = tmp.path() + "/src-" + seed;
    REQUIRE(fs::make_dirs(work));
    auto img = make_test_image(work, layers, c, seed);
    REQUIRE(img);
    REQUIRE(write_oci_layout(*img, work + "/layout", "t"));
    std::vector<std::string> argv = {"skopeo", "copy", "-q", "--dest-tls-verify=false"};
    argv.insert(argv.end(), creds.begin(), creds.end());
    argv.push_back("oci:" + work + "/layout:t");
    argv.push_back("docker://" + host + "/" + repo);
    auto r = must_run(argv);
    INFO((r ? "" : r.error().message()));
    REQUIRE(r);
    return std::move(*img);
  }

  std::string rootfs_of(const std::string& name) {
    auto store = image::Store::open(root);
    REQUIRE(store);
    auto img = store->resolve(name);
    INFO(name);
    REQUIRE(img);
    auto dirs = store->prepare_layers(*img);
    REQUIRE(dirs);
    std::string out = tmp.path() + "/merged-" + std::to_string(merged_++);
    REQUIRE(merge_layers(*dirs, out));
    auto listing = tree_listing(out);
    REQUIRE(listing);
    return *listing;
  }
  int merged_ = 0;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("images pushed by skopeo with gzip and zstd layers pull to the same rootfs") {
  if (!have_tools()) return;
  auto& reg = RegistryServer::shared(RegistryServer::Auth::kNone);
  Env env;
  for (auto c : {LayerCompression::kGzip, LayerCompression::kZstd}) {
    std::string repo = c == LayerCompression::kGzip ? "skopeo/gz:1" : "skopeo/zst:1";
    auto img = env.skopeo_push(reg.host(), repo, c, 3, repo.substr(7, 2));
    std::string ref = reg.host() + "/" + repo;
    auto r = run_cli({"pull", ref}, env.root, env.docker);
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 7);
    CHECK(lines[0] == "1: Pulling from " + repo.substr(0, repo.size() - 2));
    for (int i = 1; i <= 3; ++i) CHECK(lines[i].ends_with(": Pull complete"));
    CHECK(lines[4] == "Digest: " + img.manifest.digest);
    CHECK(lines[5] == "Status: Downloaded newer image for " + ref);
    CHECK(lines[6] == ref);
    CHECK(env.rootfs_of(ref) == *tree_listing(img.rootfs));
  }
}

TEST_CASE("pulling an image whose layers are present downloads nothing") {
  if (!have_tools()) return;
  auto& reg = RegistryServer::shared(RegistryServer::Auth::kNone);
  Env env;
  auto img = env.skopeo_push(reg.host(), "again:1", LayerCompression::kGzip, 2, "again");
  std::string ref = reg.host() + "/again:1";
  REQUIRE(run_cli({"pull", ref}, env.root, env.docker).code == 0);
  auto r = run_cli({"pull", ref}, env.root, env.docker);
  REQUIRE(r.code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 6);
  CHECK(lines[1] == img.layers[0].digest.substr(7, 12) + ": Already exists");
  CHECK(lines[2] == img.layers[1].digest.substr(7, 12) + ": Already exists");
  CHECK(lines[4] == "Status: Image is up to date for " + ref);
  // By digest as well.
  auto by_digest =
      run_cli({"pull", reg.host() + "/again@" + img.manifest.digest}, env.root, env.docker);
  INFO(by_digest.err);
  CHECK(by_digest.code == 0);
}

TEST_CASE(
    "an image pushed by imgbuild is pulled by skopeo and unpacked by umoci to the same tree") {
  if (!have_tools()) return;
  auto& reg = RegistryServer::shared(RegistryServer::Auth::kNone);
  Env env;
  auto img = env.skopeo_push(reg.host(), "interop/src:1", LayerCompression::kGzip, 3, "interop");
  std::string src = reg.host() + "/interop/src:1";
  REQUIRE(run_cli({"pull", src}, env.root, env.docker).code == 0);

  // Same registry: the blobs are mounted from interop/src.
  std::string dst = reg.host() + "/interop/dst:2";
  auto pushed = run_cli({"push", src, dst}, env.root, env.docker);
  INFO(pushed.err);
  REQUIRE(pushed.code == 0);
  auto lines = lines_of(pushed.out);
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] == "The push refers to repository [" + reg.host() + "/interop/dst]");
  for (int i = 1; i <= 4; ++i) CHECK(lines[i].ends_with(": Mounted from interop/src"));
  CHECK(lines[5] == "2: digest: " + img.manifest.digest +
                        " size: " + std::to_string(img.manifest.bytes.size()));

  std::string layout = env.tmp.path() + "/out";
  REQUIRE(must_run({"skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + dst,
                    "oci:" + layout + ":t"}));
  std::string bundle = env.tmp.path() + "/bundle";
  auto unpacked = must_run({"umoci", "unpack", "--image", layout + ":t", bundle});
  INFO((unpacked ? "" : unpacked.error().message()));
  REQUIRE(unpacked);
  CHECK(*tree_listing(bundle + "/rootfs") == *tree_listing(img.rootfs));
}

TEST_CASE("login checks credentials, stores them 0600, and push/pull use them") {
  if (!have_tools()) return;
  auto& open_reg = RegistryServer::shared(RegistryServer::Auth::kNone);
  auto& reg = RegistryServer::shared(RegistryServer::Auth::kHtpasswd);
  Env env;
  auto img = env.skopeo_push(open_reg.host(), "auth/src:1", LayerCompression::kGzip, 2, "auth");
  REQUIRE(run_cli({"pull", open_reg.host() + "/auth/src:1"}, env.root, env.docker).code == 0);

  std::string dst = reg.host() + "/private/app:1";
  auto anon = run_cli({"push", open_reg.host() + "/auth/src:1", dst}, env.root, env.docker);
  CHECK(anon.code == 1);
  CHECK(anon.err.find("imgbuild: pushing " + dst + ": ") == 0);
  CHECK(anon.err.find("HTTP 401 Unauthorized") != std::string::npos);

  auto bad = run_cli({"login", "-u", RegistryServer::kUser, "--password-stdin", reg.host()},
                     env.root, env.docker, "not-the-password\n");
  CHECK(bad.code == 1);
  CHECK(bad.err == "imgbuild: login to " + reg.host() + ": registry " + reg.host() +
                       ": credentials for user \"tester\" were rejected (HTTP 401)\n");
  CHECK(bad.out.find("not-the-password") == std::string::npos);
  CHECK_FALSE(fs::exists(env.docker + "/config.json"));

  auto good = run_cli({"login", "-u", RegistryServer::kUser, "--password-stdin", reg.host()},
                      env.root, env.docker, std::string(RegistryServer::kPassword) + "\n");
  INFO(good.err);
  REQUIRE(good.code == 0);
  CHECK(good.out.ends_with("Login Succeeded\n"));
  CHECK((good.out + good.err).find(RegistryServer::kPassword) == std::string::npos);
  struct stat st {};
  REQUIRE(::stat((env.docker + "/config.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto pushed = run_cli({"push", open_reg.host() + "/auth/src:1", dst}, env.root, env.docker);
  INFO(pushed.err);
  REQUIRE(pushed.code == 0);
  CHECK(lines_of(pushed.out).back() == "1: digest: " + img.manifest.digest +
                                           " size: " + std::to_string(img.manifest.bytes.size()));
  CHECK(pushed.out.find(": Pushed\n") != std::string::npos);

  std::string root2 = env.tmp.path() + "/store2";
  auto pulled = run_cli({"pull", dst}, root2, env.docker);
  INFO(pulled.err);
  REQUIRE(pulled.code == 0);

  auto out = run_cli({"logout", reg.host()}, env.root, env.docker);
  CHECK(out.code == 0);
  CHECK(out.out == "Removing login credentials for " + reg.host() + "\n");
  auto again = run_cli({"logout", reg.host()}, env.root, env.docker);
  CHECK(again.out == "Not logged in to " + reg.host() + "\n");
  std::string root3 = env.tmp.path() + "/store3";
  auto denied = run_cli({"pull", dst}, root3, env.docker);
  CHECK(denied.code == 1);
  CHECK(denied.err == "imgbuild: pulling " + dst + ": GET manifest 1: " + reg.host() +
                          "/private/app: HTTP 401 Unauthorized: UNAUTHORIZED: authentication "
                          "required\n");
}

TEST_CASE("parallel pulls of the same image into one store do not corrupt it") {
  if (!have_tools()) return;
  auto& reg = RegistryServer::shared(RegistryServer::Auth::kNone);
  Env env;
  auto img = env.skopeo_push(reg.host(), "parallel:1", LayerCompression::kGzip, 4, "parallel");
  auto ref = image::Reference::parse(reg.host() + "/parallel:1");
  REQUIRE(ref);
  auto store = image::Store::open(env.root);
  REQUIRE(store);
  std::vector<std::thread> threads;
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      registry::PullOptions o;
      o.docker_config_dir = env.docker;
      auto r = registry::pull_image(*store, *ref, o);
      if (!r) errors[i] = r.error().message();
    });
  }
  // And two processes at the same time.
  auto p1 = std::thread([&] {
    CHECK(run_cli({"pull", ref->str()}, env.root, env.docker).code == 0);
  });
  auto p2 = std::thread([&] {
    CHECK(run_cli({"pull", ref->str()}, env.root, env.docker).code == 0);
  });
  for (auto& t : threads) t.join();
  p1.join();
  p2.join();
  for (const auto& e : errors) CHECK(e.empty());
  CHECK(env.rootfs_of(ref->str()) == *tree_listing(img.rootfs));
  CHECK(*must_run({"ls", "-A", env.root + "/tmp"}) == "");
}

// docker push -> imgbuild pull (Docker schema 2) is tests/interop/docker_push.py: it starts its
// own dockerd, so it runs in CI rather than only where a system dockerd happens to be up.
