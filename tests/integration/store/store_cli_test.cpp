// imgbuild's image commands against a real store, checked with the peers that read OCI layouts
// (oci-image-tool, skopeo, umoci) and with a second store (round trip).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/sha256.h"
#include "base/subprocess.h"
#include "tests/support/skip.h"

using namespace imgbuild;

namespace {

ProcessResult run(const std::vector<std::string>& argv, const std::string& stdin_data = "") {
  ProcessOptions options;
  if (!stdin_data.empty()) options.stdin_data = stdin_data;
  auto r = run_process(argv, options);
  REQUIRE(r);
  return *r;
}

ProcessResult ib(const std::string& root, std::vector<std::string> args) {
  args.insert(args.begin(), {IMGBUILD_BINARY, "--root", root});
  return run(args);
}

bool have(const std::string& tool) {
  auto r = run_process({"sh", "-c", "command -v " + tool});
  return r && r->exit_code == 0;
}

// The busybox rootfs tar, made once per test process.
const std::string& busybox_tar() {
  static fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-busybox-");
  static std::string tar = [] {
    std::string path = dir.path() + "/busybox.tar";
    auto r = run({IMGBUILD_TESTDATA_DIR "/make-busybox-rootfs.sh", "--tar", path});
    REQUIRE(r.exit_code == 0);
    return path;
  }();
  return tar;
}

// path -> content hash (or "dir"/"link:target") of everything under root except tmp/'s contents.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    std::string rel = std::filesystem::relative(it->path(), root).string();
    if (rel.starts_with("tmp/")) continue;
    if (it->is_symlink()) {
      out[rel] = "link:" + std::filesystem::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      out[rel] = "dir";
    } else {
      out[rel] = Sha256::hex_of(*fs::read_file(it->path().string()));
    }
  }
  return out;
}

bool dir_empty(const std::string& path) { return std::filesystem::is_empty(path); }

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

struct Fixture {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-store-it-");
  std::string root = dir.path() + "/store";
  std::string id;
  Fixture() {
    auto r = ib(root, {"import", busybox_tar(), "busybox:1"});
    REQUIRE(r.err == "");
    REQUIRE(r.exit_code == 0);
    id = trim(r.out);
    REQUIRE(id.size() == 71);
  }
};

// The hostile-tar corpus (testdata/hostile-tars), made once per test process.
const std::string& hostile_tars() {
  static fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-hostile-");
  static bool made = [] {
    auto r =
        run({"python3", IMGBUILD_TESTDATA_DIR "/hostile-tars/make-hostile-tars.py", dir.path()});
    REQUIRE(r.exit_code == 0);
    return true;
  }();
  (void)made;
  return dir.path();
}

std::string sha256_of(const std::string& bytes) { return "sha256:" + Sha256::hex_of(bytes); }

std::string gzip(const std::string& bytes) {
  auto r = run({"gzip", "-n", "-c"}, bytes);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// Writes an OCI archive at `tar` of one image, "evil:1": one gzip layer `layer_blob` and a config
// that names `diff_id` for it. Returns the layer blob's digest.
std::string write_oci_archive(const std::string& tar, const std::string& layer_blob,
                              const std::string& diff_id) {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-archive-");
  std::string blobs = dir.path() + "/blobs/sha256/";
  REQUIRE(fs::make_dirs(blobs));
  auto put = [&](const std::string& bytes) {
    std::string digest = sha256_of(bytes);
    REQUIRE(fs::write_file_atomic(blobs + digest.substr(7), bytes));
    return digest;
  };
  nlohmann::json config = {{"architecture", "amd64"},
                           {"os", "linux"},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}}};
  std::string config_bytes = config.dump();
  std::string layer_digest = put(layer_blob);
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config",
                              {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                               {"digest", put(config_bytes)},
                               {"size", config_bytes.size()}}},
                             {"layers",
                              {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                                {"digest", layer_digest},
                                {"size", layer_blob.size()}}}}};
  std::string manifest_bytes = manifest.dump();
  nlohmann::json index = {
      {"schemaVersion", 2},
      {"manifests",
       {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
         {"digest", put(manifest_bytes)},
         {"size", manifest_bytes.size()},
         {"annotations", {{"io.containerd.image.name", "docker.io/library/evil:1"}}}}}}};
  REQUIRE(fs::write_file_atomic(dir.path() + "/index.json", index.dump()));
  REQUIRE(fs::write_file_atomic(dir.path() + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  REQUIRE(run({"tar", "-cf", tar, "-C", dir.path(), "."}).exit_code == 0);
  return layer_digest;
}

}  // namespace

TEST_CASE("import creates an image that images and inspect show") {
  Fixture f;
  auto images = ib(f.root, {"images"});
  REQUIRE(images.exit_code == 0);
  std::string short_id = f.id.substr(7, 12);
  // CREATED ("Less than a second ago", "2 seconds ago") sets that column's width.
  std::string header = images.out.substr(0, images.out.find('\n'));
  // Docker's tabwriter: columns at least 10 wide, 3 spaces of padding.
  CHECK(header.starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"));
  CHECK(header.ends_with("   SIZE"));
  CHECK(images.out.find("\nbusybox      1         " + short_id + "   ") != std::string::npos);
  CHECK(images.out.ends_with("MB\n"));
  CHECK(trim(ib(f.root, {"images", "-q"}).out) == short_id);

  auto json = nlohmann::json::parse(ib(f.root, {"images", "--format", "json"}).out);
  CHECK(json["Repository"] == "busybox");
  CHECK(json["Tag"] == "1");
  CHECK(json["ID"] == short_id);

  auto inspect = ib(f.root, {"inspect", "busybox:1"});
  REQUIRE(inspect.exit_code == 0);
  auto j = nlohmann::json::parse(inspect.out);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["Id"] == f.id);
  CHECK(j[0]["RepoTags"] == nlohmann::json::array({"busybox:1"}));
  CHECK(j[0]["Os"] == "linux");
  CHECK(j[0]["RootFS"]["Layers"].size() == 1);
  CHECK(j[0]["History"][0]["comment"] == "Imported from " + busybox_tar());
  CHECK(j[0]["Manifest"]["layers"][0]["mediaType"] ==
        "application/vnd.oci.image.layer.v1.tar+gzip");

  auto missing = ib(f.root, {"inspect", "nope"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out == "[]\n");
  CHECK(missing.err == "imgbuild: No such object: nope\n");  // as `docker inspect`
}

TEST_CASE("import from stdin with zstd gives the same diff ID") {
  Fixture f;
  auto tar = *fs::read_file(busybox_tar());
  auto r = run(
      {IMGBUILD_BINARY, "--root", f.root, "import", "--compression", "zstd", "-", "bb:zstd"}, tar);
  REQUIRE(r.exit_code == 0);
  auto a = nlohmann::json::parse(ib(f.root, {"inspect", "busybox:1", "bb:zstd"}).out);
  CHECK(a[0]["RootFS"] == a[1]["RootFS"]);
  CHECK(a[1]["Manifest"]["layers"][0]["mediaType"] ==
        "application/vnd.oci.image.layer.v1.tar+zstd");
}

TEST_CASE("import errors are one clear line and leave the store unchanged") {
  Fixture f;
  auto before = snapshot(f.root);
  auto missing = ib(f.root, {"import", f.dir.path() + "/none.tar", "x"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err ==
        "imgbuild: openat(" + f.dir.path() + "/none.tar): ENOENT (No such file or directory)\n");
  auto bad_name = ib(f.root, {"import", busybox_tar(), "Bad"});
  CHECK(bad_name.err == "imgbuild: invalid reference \"Bad\": repository name must be lowercase\n");
  REQUIRE(fs::write_file_atomic(f.dir.path() + "/junk.tar.gz", std::string("\x1f\x8b\x08junk", 7)));
  auto junk = ib(f.root, {"import", f.dir.path() + "/junk.tar.gz", "x"});
  CHECK(junk.exit_code == 1);
  CHECK(junk.err.starts_with("imgbuild: importing " + f.dir.path() + "/junk.tar.gz: "));
  CHECK(snapshot(f.root) == before);
  CHECK(dir_empty(f.root + "/tmp"));
}

TEST_CASE(
    "import unpacks the layer; a tar that escapes its root is refused with the store unchanged") {
  Fixture f;
  auto j = nlohmann::json::parse(ib(f.root, {"inspect", "busybox:1"}).out);
  std::string diff_id = j[0]["RootFS"]["Layers"][0];
  std::string layer_dir = f.root + "/layers/sha256/" + diff_id.substr(7);
  CHECK(fs::exists(layer_dir + "/bin/busybox"));  // unpacked by import, like docker import

  auto before = snapshot(f.root);
  std::string corpus = f.dir.path() + "/hostile";
  auto made = run({"python3", IMGBUILD_TESTDATA_DIR "/hostile-tars/make-hostile-tars.py", corpus});
  REQUIRE(made.exit_code == 0);
  for (const char* source : {"file", "stdin"}) {
    INFO(source);
    auto r = std::string(source) == "file"
                 ? ib(f.root, {"import", corpus + "/dotdot.tar", "evil"})
                 : run({IMGBUILD_BINARY, "--root", f.root, "import", "-", "evil"},
                       *fs::read_file(corpus + "/dotdot.tar"));
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("path escapes the layer root") != std::string::npos);
    CHECK(snapshot(f.root) == before);
    CHECK(dir_empty(f.root + "/tmp"));
  }
}

TEST_CASE("import from a FIFO reads it once and unpacks the same layer") {
  Fixture f;
  std::string fifo = f.dir.path() + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto r =
      run({"sh", "-c", "cat \"$1\" > \"$2\" & \"$3\" --root \"$4\" import \"$2\" bb:fifo; wait",
           "sh", busybox_tar(), fifo, IMGBUILD_BINARY, f.root});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto a = nlohmann::json::parse(ib(f.root, {"inspect", "busybox:1", "bb:fifo"}).out);
  CHECK(a[0]["RootFS"] == a[1]["RootFS"]);
}

TEST_CASE("the store and saved OCI archives pass oci-image-tool, skopeo and umoci") {
  Fixture f;
  if (!have("oci-image-tool") || !have("skopeo") || !have("umoci")) {
    testing::skip("oci-image-tool, skopeo or umoci missing: scripts/install-deps.sh test");
    return;
  }
  auto v = run({"oci-image-tool", "validate", "--type", "image", f.root});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  auto s = run({"skopeo", "inspect", "oci:" + f.root + ":docker.io/library/busybox:1"});
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  CHECK(nlohmann::json::parse(s.out)["Os"] == "linux");

  std::string tar = f.dir.path() + "/oci.tar";
  REQUIRE(ib(f.root, {"save", "--format", "oci", "-o", tar, "busybox:1"}).exit_code == 0);
  std::string out = f.dir.path() + "/oci";
  REQUIRE(fs::make_dirs(out));
  REQUIRE(run({"tar", "-xf", tar, "-C", out}).exit_code == 0);
  auto v2 = run({"oci-image-tool", "validate", "--type", "image", out});
  INFO(v2.out << v2.err);
  CHECK(v2.exit_code == 0);
  auto s2 = run({"skopeo", "inspect", "oci:" + out + ":docker.io/library/busybox:1"});
  INFO(s2.err);
  CHECK(s2.exit_code == 0);
  auto u = run({"umoci", "unpack", "--rootless", "--image", out + ":docker.io/library/busybox:1",
                f.dir.path() + "/bundle"});
  INFO(u.err);
  REQUIRE(u.exit_code == 0);
  CHECK(fs::exists(f.dir.path() + "/bundle/rootfs/bin/busybox"));
  CHECK(*fs::read_file(f.dir.path() + "/bundle/rootfs/etc/hostname") == "busybox\n");
}

TEST_CASE("docker archives have docker load's layout and round trip with identical digests") {
  Fixture f;
  REQUIRE(ib(f.root, {"tag", "busybox:1", "localhost:5000/ns/bb:2"}).exit_code == 0);
  std::string tar = f.dir.path() + "/docker.tar";
  auto saved = ib(f.root, {"save", "-o", tar, "busybox:1", "localhost:5000/ns/bb:2"});
  REQUIRE(saved.exit_code == 0);
  std::string out = f.dir.path() + "/docker";
  REQUIRE(fs::make_dirs(out));
  REQUIRE(run({"tar", "-xf", tar, "-C", out}).exit_code == 0);
  auto manifest = nlohmann::json::parse(*fs::read_file(out + "/manifest.json"));
  REQUIRE(manifest.size() == 1);
  CHECK(manifest[0]["Config"] == "blobs/sha256/" + f.id.substr(7));
  CHECK(manifest[0]["RepoTags"] == nlohmann::json::array({"busybox:1", "localhost:5000/ns/bb:2"}));
  REQUIRE(manifest[0]["Layers"].size() == 1);
  CHECK(fs::exists(out + "/" + manifest[0]["Layers"][0].get<std::string>()));
  auto repos = nlohmann::json::parse(*fs::read_file(out + "/repositories"));
  CHECK(repos["busybox"]["1"].is_string());
  CHECK(repos["localhost:5000/ns/bb"]["2"].is_string());

  if (have("skopeo")) {
    // skopeo's docker-archive reader follows docker load's rules.
    auto s = run({"skopeo", "inspect", "docker-archive:" + tar + ":busybox:1"});
    INFO(s.err);
    CHECK(s.exit_code == 0);
    // A legacy archive (<id>/layer.tar symlinks, uncompressed layers) as skopeo writes it.
    std::string legacy = f.dir.path() + "/legacy.tar";
    auto c = run({"skopeo", "copy", "oci:" + f.root + ":docker.io/library/busybox:1",
                  "docker-archive:" + legacy + ":skopeo/bb:7"});
    INFO(c.err);
    REQUIRE(c.exit_code == 0);
    std::string fourth = f.dir.path() + "/fourth";
    auto l4 = ib(fourth, {"load", "-i", legacy});
    INFO(l4.err);
    CHECK(l4.out == "Loaded image: skopeo/bb:7\n");
    auto d = nlohmann::json::parse(ib(fourth, {"inspect", "skopeo/bb:7"}).out);
    CHECK(d[0]["Id"] == f.id);
  } else {
    testing::skip("skopeo missing: docker-archive checks");
  }

  // Saving again gives the same bytes.
  std::string again = f.dir.path() + "/again.tar";
  REQUIRE(ib(f.root, {"save", "-o", again, "busybox:1", "localhost:5000/ns/bb:2"}).exit_code == 0);
  CHECK(Sha256::hex_of(*fs::read_file(tar)) == Sha256::hex_of(*fs::read_file(again)));

  std::string second = f.dir.path() + "/second";
  auto loaded = ib(second, {"load", "-i", tar});
  INFO(loaded.err);
  REQUIRE(loaded.exit_code == 0);
  CHECK(loaded.out == "Loaded image: busybox:1\nLoaded image: localhost:5000/ns/bb:2\n");
  auto a = nlohmann::json::parse(ib(f.root, {"inspect", "busybox:1"}).out);
  auto b = nlohmann::json::parse(ib(second, {"inspect", "busybox:1"}).out);
  CHECK(a[0]["Id"] == b[0]["Id"]);
  CHECK(a[0]["ManifestDigest"] == b[0]["ManifestDigest"]);
  CHECK(a[0]["RootFS"] == b[0]["RootFS"]);

  // A pure Docker archive (no index.json) loads too, under the same image ID.
  REQUIRE(::unlink((out + "/index.json").c_str()) == 0);
  std::string docker_only = f.dir.path() + "/docker-only.tar";
  REQUIRE(run({"tar", "-cf", docker_only, "-C", out, "."}).exit_code == 0);
  std::string third = f.dir.path() + "/third";
  auto l3 = ib(third, {"load", "-i", docker_only});
  INFO(l3.err);
  REQUIRE(l3.exit_code == 0);
  auto c = nlohmann::json::parse(ib(third, {"inspect", "localhost:5000/ns/bb:2"}).out);
  CHECK(c[0]["Id"] == a[0]["Id"]);
}

TEST_CASE("loading a truncated or corrupt archive leaves the store unchanged") {
  Fixture f;
  std::string tar = f.dir.path() + "/docker.tar";
  REQUIRE(ib(f.root, {"save", "-o", tar, "busybox:1"}).exit_code == 0);
  std::string data = *fs::read_file(tar);
  std::string other = f.dir.path() + "/other";
  REQUIRE(ib(other, {"images"}).exit_code == 0);
  auto before = snapshot(other);

  std::string truncated = f.dir.path() + "/truncated.tar";
  REQUIRE(fs::write_file_atomic(truncated, data.substr(0, data.size() / 2)));
  auto r = ib(other, {"load", "-i", truncated});
  CHECK(r.exit_code == 1);
  CHECK(r.err.starts_with("imgbuild: load: reading " + truncated + ": "));
  CHECK(snapshot(other) == before);
  CHECK(dir_empty(other + "/tmp"));

  auto empty = run({IMGBUILD_BINARY, "--root", other, "load"}, "x");
  CHECK(empty.exit_code == 1);
  CHECK(snapshot(other) == before);

  // Flip a byte inside the largest blob's data (the layer): its digest no longer matches. Found
  // by walking the tar headers: blobs are in digest order, so the layer's place varies.
  std::string corrupt = data;
  size_t layer_data = 0, layer_size = 0;
  for (size_t off = 0; off + 512 <= data.size() && data[off] != '\0';) {
    size_t size = std::stoul(data.substr(off + 124, 12), nullptr, 8);
    if (data.compare(off, 13, "blobs/sha256/") == 0 && size > layer_size) {
      layer_data = off + 512;
      layer_size = size;
    }
    off += 512 + (size + 511) / 512 * 512;
  }
  REQUIRE(layer_size > 1000);
  corrupt[layer_data + layer_size / 2] ^= 0x55;
  std::string corrupt_path = f.dir.path() + "/corrupt.tar";
  REQUIRE(fs::write_file_atomic(corrupt_path, corrupt));
  auto c = ib(other, {"load", "-i", corrupt_path});
  CHECK(c.exit_code == 1);
  CHECK(c.err.find("digest mismatch") != std::string::npos);
  CHECK(snapshot(other) == before);
  CHECK(dir_empty(other + "/tmp"));
}

TEST_CASE("tag, rmi and prune behave like docker") {
  Fixture f;
  REQUIRE(ib(f.root, {"tag", "busybox:1", "other"}).exit_code == 0);
  auto conflict = ib(f.root, {"rmi", f.id.substr(7, 12)});
  CHECK(conflict.exit_code == 1);
  CHECK(conflict.err == "imgbuild: conflict: unable to delete " + f.id.substr(7, 12) +
                            " (must be forced) - image is referenced in multiple repositories\n");
  auto untag = ib(f.root, {"rmi", "other"});
  CHECK(untag.exit_code == 0);
  CHECK(untag.out == "Untagged: other:latest\n");
  auto bad_tag = ib(f.root, {"tag", "nope", "x"});
  CHECK(bad_tag.err == "imgbuild: image not found: nope:latest\n");

  auto rmi = ib(f.root, {"rmi", "busybox:1"});
  CHECK(rmi.exit_code == 0);
  CHECK(rmi.out == "Untagged: busybox:1\nDeleted: " + f.id + "\n");
  CHECK(dir_empty(f.root + "/blobs/sha256"));
  CHECK(ib(f.root, {"images", "-q"}).out == "");
  auto again = ib(f.root, {"rmi", "busybox:1"});
  CHECK(again.exit_code == 1);
  CHECK(again.err == "imgbuild: image not found: busybox:1\n");

  // An untagged import is pruned.
  auto id = trim(ib(f.root, {"import", busybox_tar()}).out);
  CHECK(ib(f.root, {"images"}).out.find("<none>       <none>") != std::string::npos);
  auto prune = ib(f.root, {"prune"});
  CHECK(prune.exit_code == 0);
  CHECK(prune.out.starts_with("untagged image: sha256:"));
  CHECK(prune.out.find("Total reclaimed space: ") != std::string::npos);
  CHECK(dir_empty(f.root + "/blobs/sha256"));
  CHECK(trim(ib(f.root, {"prune"}).out) == "Total reclaimed space: 0B");
}

TEST_CASE("two processes import and tag into one store concurrently") {
  Fixture f;
  std::vector<Child> children;
  for (int p = 0; p < 2; ++p) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int failures = 0;
      for (int i = 0; i < 4; ++i) {
        std::string name = "app" + std::to_string(p) + ":" + std::to_string(i);
        auto r = run_process({IMGBUILD_BINARY, "--root", f.root, "import", busybox_tar(), name});
        if (!r || r->exit_code != 0) ++failures;
        auto t = run_process(
            {IMGBUILD_BINARY, "--root", f.root, "tag", name, "shared:" + std::to_string(i)});
        if (!t || t->exit_code != 0) ++failures;
        auto pr = run_process({IMGBUILD_BINARY, "--root", f.root, "prune"});
        if (!pr || pr->exit_code != 0) ++failures;
      }
      ::_exit(failures);
    }
    children.emplace_back(pid);
  }
  for (auto& c : children) CHECK(exit_code_from_wait_status(*c.wait()) == 0);
  auto images = ib(f.root, {"images", "--format", "json"});
  REQUIRE(images.exit_code == 0);
  size_t rows = 0;
  for (size_t pos = 0; (pos = images.out.find('\n', pos)) != std::string::npos; ++pos) ++rows;
  CHECK(rows == 1 + 8 + 4);  // busybox:1, app0:0..3, app1:0..3, shared:0..3
  for (int p = 0; p < 2; ++p) {
    for (int i = 0; i < 4; ++i) {
      auto r = ib(f.root, {"inspect", "app" + std::to_string(p) + ":" + std::to_string(i)});
      CHECK(r.exit_code == 0);
    }
  }
  CHECK(dir_empty(f.root + "/tmp"));
  if (have("oci-image-tool")) {
    CHECK(run({"oci-image-tool", "validate", "--type", "image", f.root}).exit_code == 0);
  }
}

TEST_CASE("staging left by a killed process is removed by the next command") {
  Fixture f;
  std::string fifo = f.dir.path() + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl(IMGBUILD_BINARY, IMGBUILD_BINARY, "--root", f.root.c_str(), "import", fifo.c_str(),
            "half", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  Child child(pid);
  {
    // Feed part of a tar, then wait until the importer has staged something.
    UniqueFd w(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
    REQUIRE(w.valid());
    std::string data = *fs::read_file(busybox_tar());
    REQUIRE(::write(w.get(), data.data(), 1 << 20) == (1 << 20));
    for (int i = 0; i < 200 && dir_empty(f.root + "/tmp"); ++i) ::usleep(10000);
    CHECK(!dir_empty(f.root + "/tmp"));
    child.signal(SIGKILL);
    (void)child.wait();
  }
  CHECK(!dir_empty(f.root + "/tmp"));
  REQUIRE(ib(f.root, {"images"}).exit_code == 0);
  CHECK(dir_empty(f.root + "/tmp"));
  CHECK(ib(f.root, {"inspect", "half"}).exit_code == 1);
}

TEST_CASE("every image command has --help") {
  for (const char* cmd : {"import", "images", "inspect", "tag", "rmi", "save", "load", "prune"}) {
    auto r = run({IMGBUILD_BINARY, cmd, "--help"});
    INFO(cmd);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage:") != std::string::npos);
  }
}

TEST_CASE("load refuses a compressed layer whose content is not its diff ID, storing nothing") {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-store-it-");
  std::string root = dir.path() + "/store";
  REQUIRE(ib(root, {"images"}).exit_code == 0);
  auto before = snapshot(root);
  std::string content = *fs::read_file(hostile_tars() + "/replace-file.tar");
  std::string claimed = *fs::read_file(hostile_tars() + "/whiteouts.tar");

  std::string tar = dir.path() + "/mismatch.tar";
  std::string layer = write_oci_archive(tar, gzip(content), sha256_of(claimed));
  auto r = ib(root, {"load", "-i", tar});
  CHECK(r.exit_code == 1);
  CHECK(r.out == "");
  CHECK(r.err == "imgbuild: load: " + tar + ": archive entry \"blobs/sha256/" + layer.substr(7) +
                     "\": diff ID mismatch: the image config says " + sha256_of(claimed) +
                     ", the layer's content hashes to " + sha256_of(content) + "\n");
  CHECK(snapshot(root) == before);
  CHECK(dir_empty(root + "/tmp"));
  CHECK(ib(root, {"inspect", "evil:1"}).exit_code == 1);

  // The same archive with the true diff ID loads, and its layer is unpacked there and then.
  std::string good = dir.path() + "/good.tar";
  write_oci_archive(good, gzip(content), sha256_of(content));
  auto ok = ib(root, {"load", "-i", good});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "Loaded image: evil:1\n");
  CHECK(fs::is_dir(root + "/layers/sha256/" + Sha256::hex_of(content)));
  CHECK(dir_empty(root + "/tmp"));
}

TEST_CASE("load refuses a hostile layer tar at load, not at first use, storing nothing") {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-store-it-");
  std::string root = dir.path() + "/store";
  REQUIRE(ib(root, {"images"}).exit_code == 0);
  auto before = snapshot(root);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"dotdot", "entry \"../imgbuild-hostile-evil\": path escapes the layer root"},
      {"symlink-parent-absolute",
       "entry \"link/imgbuild-hostile-evil\": parent \"link\" is a symlink"},
      {"hardlink-escape",
       "entry \"h\": hard link target \"../../etc/passwd\" escapes the layer root"},
  };
  for (const auto& [name, error] : cases) {
    INFO(name);
    std::string content = *fs::read_file(hostile_tars() + "/" + name + ".tar");
    std::string tar = dir.path() + "/" + name + ".tar";
    std::string layer = write_oci_archive(tar, gzip(content), sha256_of(content));
    auto r = ib(root, {"load", "-i", tar});
    CHECK(r.exit_code == 1);
    CHECK(r.err.starts_with("imgbuild: load: " + tar + ": archive entry \"blobs/sha256/" +
                            layer.substr(7) + "\": "));
    CHECK(r.err.ends_with(": " + error + "\n"));
    CHECK(snapshot(root) == before);
    CHECK(dir_empty(root + "/tmp"));
    CHECK(ib(root, {"inspect", "evil:1"}).exit_code == 1);
  }
  CHECK_FALSE(fs::exists(dir.path() + "/imgbuild-hostile-evil"));
}
