// eStargz layers leave the machine in a form lazy pullers read (issue 15): `push --compression
// estargz` converts every layer (built and pulled ones), annotates each with its TOC digest and
// uncompressed size, and containerd/stargz-snapshotter's own estargz reader
// (tests/tools/estargz-check) verifies the TOC and every chunk of what skopeo copied from the
// registry. The pushed image pulls into an empty store to the same tree, a second push converts
// and uploads nothing, and a pulled gzip image converts too. Real builds, a real registry
// (Debian's docker-registry); needs root, /dev/fuse, skopeo and Go (for estargz-check).
#include <ftw.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/subprocess.h"
#include "image/descriptor.h"
#include "registry-client/client.h"
#include "registry-client/estargz_remote.h"
#include "tests/support/busybox_image.h"
#include "tests/support/registry_server.h"
#include "tests/support/skip.h"
#include "tests/support/tcp_proxy.h"

using namespace imgbuild;

namespace {

bool can_run() {
  if (::geteuid() != 0 || !fs::exists("/dev/fuse")) {
    return testing::skip("eStargz integration tests need root and /dev/fuse");
  }
  if (!testing::RegistryServer::available() || !fs::exists("/usr/bin/skopeo")) {
    return testing::skip("eStargz integration tests need docker-registry and skopeo");
  }
  if (!fs::exists(ESTARGZ_CHECK_BINARY)) {
    return testing::skip(
        "estargz-check was not built (needs golang-go and "
        "golang-github-containerd-stargz-snapshotter-dev)");
  }
  return true;
}

// Files of mixed sizes; big.bin spans two 4 MiB chunks. A deep directory, and a file with a hard
// link in another directory.
constexpr const char* kDockerfile =
    "FROM busybox:latest\n"
    "RUN mkdir -p /data/many /data/deep/a/b/c /data/deep/a/x /data/links/sub && "
    "seq 1 200000 > /data/numbers && echo built > /data/note && "
    "dd if=/dev/urandom of=/data/big.bin bs=1M count=5 2>/dev/null && "
    "for i in $(seq 1 50); do echo $i > /data/many/f$i; done && ln -s note /data/link && "
    "echo leaf > /data/deep/a/b/c/leaf && echo l > /data/links/l1 && "
    "ln /data/links/l1 /data/links/sub/l2\n"
    "COPY hello.txt /data/hello.txt\n";

struct Env {
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-estargz-it-").value();
  std::string context = dir.path() + "/context";

  Env() {
    REQUIRE(fs::make_dirs(context));
    REQUIRE(fs::write_file_atomic(context + "/Dockerfile", kDockerfile));
    REQUIRE(fs::write_file_atomic(context + "/hello.txt", "hello\n"));
  }

  std::string store(const std::string& name) { return dir.path() + "/" + name; }

  ProcessResult imgbuild(const std::string& store_root, std::vector<std::string> args) {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root", store_root};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    REQUIRE(r);
    return *r;
  }

  // `mount --lazy ref` into the store store_root, at a new directory dir.path()/name; returns it.
  std::string mount_lazy(const std::string& store_root, const std::string& ref,
                         const std::string& name) {
    std::string mnt = dir.path() + "/" + name;
    REQUIRE(fs::make_dirs(mnt));
    auto mounted = imgbuild(store_root, {"mount", "--lazy", ref, mnt});
    INFO(mounted.err);
    REQUIRE(mounted.exit_code == 0);
    return mnt;
  }

  ProcessResult sh(const std::string& script) {
    auto r = run_process({"sh", "-c", script});
    REQUIRE(r);
    return *r;
  }
};

nlohmann::json skopeo_raw(Env& env, const std::string& source) {
  auto r = env.sh("skopeo inspect --raw --tls-verify=false " + source);
  INFO(source << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(needle, p)) != std::string::npos; p += needle.size()) ++n;
  return n;
}

// Every layer of the remote image is eStargz and passes the reference reader's verification.
void check_estargz(Env& env, const std::string& ref, const std::string& copy_dir) {
  auto manifest = skopeo_raw(env, "docker://" + ref);
  auto copied = env.sh("skopeo copy --src-tls-verify=false docker://" + ref + " dir:" + copy_dir);
  INFO(copied.err);
  REQUIRE(copied.exit_code == 0);  // skopeo verifies every blob's digest on the way
  REQUIRE(!manifest["layers"].empty());
  for (const auto& l : manifest["layers"]) {
    CHECK(l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip");
    REQUIRE(l.contains("annotations"));
    std::string toc = l["annotations"].value("containerd.io/snapshot/stargz/toc.digest", "");
    REQUIRE(toc.starts_with("sha256:"));
    CHECK(!l["annotations"].value("io.containers.estargz.uncompressed-size", "").empty());
    std::string blob = copy_dir + "/" + l["digest"].get<std::string>().substr(7);
    auto checked = env.sh(std::string(ESTARGZ_CHECK_BINARY) + " verify " + blob + " " + toc);
    INFO(checked.out << checked.err);
    CHECK(checked.exit_code == 0);
    CHECK(checked.out.starts_with("ok: "));
  }
  // The checker can fail: one flipped byte in the middle of the biggest layer's file data.
  const auto& big = *std::max_element(manifest["layers"].begin(), manifest["layers"].end(),
                                      [](const nlohmann::json& x, const nlohmann::json& y) {
                                        return x["size"].get<int64_t>() < y["size"].get<int64_t>();
                                      });
  std::string blob = copy_dir + "/" + big["digest"].get<std::string>().substr(7);
  std::string toc = big["annotations"]["containerd.io/snapshot/stargz/toc.digest"];
  auto tampered = env.sh("cp " + blob + " " + blob + ".bad && printf '\\377' | dd of=" + blob +
                         ".bad bs=1 seek=" + std::to_string(big["size"].get<int64_t>() / 2) +
                         " conv=notrunc 2>/dev/null && " + ESTARGZ_CHECK_BINARY + " verify " +
                         blob + ".bad " + toc);
  CHECK(tampered.exit_code != 0);
}

// The output of `command` run in a (full, read-only) mount of image from store_root at
// mountpoint, which it makes; unmounted again.
std::string listed_in_mount(Env& env, const std::string& store_root, const std::string& image,
                            const std::string& mountpoint, const std::string& command) {
  REQUIRE(fs::make_dirs(mountpoint));
  auto mounted = env.imgbuild(store_root, {"mount", image, mountpoint});
  INFO(mounted.err);
  REQUIRE(mounted.exit_code == 0);
  auto listed = env.sh("cd " + mountpoint + " && " + command);
  env.imgbuild(store_root, {"umount", mountpoint});
  REQUIRE(listed.exit_code == 0);
  return listed.out;
}

// The image's tree as `find` lists it (type, mode, size, link target; sorted), through a mount.
std::string tree_of(Env& env, const std::string& store_root, const std::string& image,
                    const std::string& mountpoint) {
  return listed_in_mount(env, store_root, image, mountpoint,
                         "find . -printf '%y %m %s %l %p\\n' | sort && md5sum data/big.bin");
}

// In a store's lazy/ trees (image/estargz_skeleton.h): regular files with bytes, filled (the
// placeholders' marker gone); placeholders; entries below the layers' roots.
struct LazyCounts {
  int filled = 0;
  int placeholders = 0;
  int deep = 0;
};
LazyCounts g_counts;
LazyCounts count_lazy(const std::string& dir) {
  g_counts = {};
  ::nftw(
      dir.c_str(),
      [](const char* path, const struct stat* st, int, struct FTW* ftw) {
        bool marked = ::lgetxattr(path, "user.imgbuild.lazy", nullptr, 0) >= 0;
        // (lazy/sha256/<hex>.partial and .ranges are the fetched blob bytes, not files)
        if (S_ISREG(st->st_mode) && st->st_size > 0 && ftw->level >= 3)
          ++(marked ? g_counts.placeholders : g_counts.filled);
        // lazy/sha256/<hex>/ENTRY/... (opaque markers are made with their directory)
        if (ftw->level >= 4 && std::string_view(path + ftw->base) != ".wh..wh..opq")
          ++g_counts.deep;
        return 0;
      },
      16, FTW_PHYS);
  return g_counts;
}

// "made" when every layer that has the directory path has made its children, "unmade" when none
// has, else "mixed" (or "absent").
std::string dir_state(const std::string& lazy_dir, const std::string& path) {
  int made = 0, unmade = 0;
  auto layers = fs::list_dir(lazy_dir + "/sha256", fs::MissingDir::kIsEmpty);
  REQUIRE(layers);
  for (const auto& layer : *layers) {
    std::string p = lazy_dir + "/sha256/" + layer + "/" + path;
    if (!fs::is_dir(p)) continue;
    ++(::lgetxattr(p.c_str(), "user.imgbuild.lazydir", nullptr, 0) >= 0 ? unmade : made);
  }
  if (made + unmade == 0) return "absent";
  return unmade == 0 ? "made" : made == 0 ? "unmade" : "mixed";
}

// app:1 built into a fresh store and pushed as eStargz; returns the store.
std::string build_and_push_estargz(Env& env, const std::string& dest) {
  std::string a = env.store("a");
  testing::import_busybox(a, "busybox:latest", env.dir.path() + "/busybox.tar");
  auto built = env.imgbuild(a, {"build", "-t", "app:1", "-q", env.context});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  auto pushed = env.imgbuild(a, {"push", "--compression", "estargz", "app:1", dest});
  INFO(pushed.err);
  REQUIRE(pushed.exit_code == 0);
  return a;
}

// examples/web built as web:1 into a fresh store; returns the store.
std::string build_web(Env& env) {
  std::string a = env.store("a");
  testing::import_busybox(a, "busybox:latest", env.dir.path() + "/busybox.tar");
  REQUIRE(env.imgbuild(a, {"build", "-q", "-t", "web:1", IMGBUILD_SOURCE_DIR "/examples/web"})
              .exit_code == 0);
  return a;
}

}  // namespace

TEST_CASE("mount --lazy fetches the TOCs, then only the files that are opened") {
  if (!can_run()) return;
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  Env env;
  std::string dest = reg.host() + "/estargz/lazy:1";
  std::string a = build_and_push_estargz(env, dest);

  std::string b = env.store("b");
  std::string mnt = env.mount_lazy(b, dest, "lazy-mnt");
  std::string lazy_dir = b + "/lazy";
  // Only the layers' root directories are made at first; each directory is made when first read.
  CHECK(count_lazy(lazy_dir).deep == 0);
  CHECK(dir_state(lazy_dir, "data") == "unmade");
  CHECK(dir_state(lazy_dir, "bin") == "unmade");
  // Directories not made yet have the image's link counts (2 + their subdirectories).
  auto nlinks = env.sh("stat -c %h " + mnt + "/data " + mnt + "/data/deep");
  CHECK(dir_state(lazy_dir, "data") == "unmade");
  auto full_nlinks = env.imgbuild(
      a, {"run", "--rm", "--network", "none", "app:1", "stat", "-c", "%h", "/data", "/data/deep"});
  CHECK(nlinks.out == full_nlinks.out);
  CHECK(count(nlinks.out, "\n") == 2);
  // A lookup makes the entry it names, not its siblings; a listing makes the rest.
  auto listed = env.sh("ls " + mnt + "/data/deep/a/b");
  CHECK(listed.out == "c\n");
  CHECK(dir_state(lazy_dir, "data/deep/a/b") == "made");
  for (const char* d : {"data", "data/deep", "data/deep/a"}) {
    CHECK(dir_state(lazy_dir, d) == "unmade");
  }
  CHECK(dir_state(lazy_dir, "data/deep/a/x") == "absent");
  for (const char* d : {"bin", "data/deep/a/b/c"}) CHECK(dir_state(lazy_dir, d) == "unmade");
  CHECK(env.sh("stat -c %s " + mnt + "/data/many/f7").out == "2\n");
  CHECK(env.sh("ls -a " + lazy_dir + "/sha256/*/data/many | sort -u").out == ".\n..\nf7\n");
  CHECK(dir_state(lazy_dir, "data/many") == "unmade");
  auto many = env.sh("ls " + mnt + "/data/many | sort | uniq -d; ls " + mnt + "/data/many | wc -l");
  CHECK(many.out == "50\n");  // no name twice
  CHECK(dir_state(lazy_dir, "data/many") == "made");
  CHECK(dir_state(lazy_dir, "data/links") == "absent");
  // A hard-linked file's other names are made with it: link counts are the image's.
  CHECK(env.sh("stat -c %h " + mnt + "/data/links/l1").out == "2\n");
  CHECK(dir_state(lazy_dir, "data/links/sub") == "made");
  // Metadata needs no fetch.
  auto stat = env.sh("stat -c '%s %a' " + mnt + "/data/big.bin && readlink " + mnt + "/data/link");
  CHECK(stat.out == "5242880 644\nnote\n");
  CHECK(count_lazy(lazy_dir).filled == 0);
  // Opening a file fetches it, and only it.
  CHECK(env.sh("cat " + mnt + "/data/note").out == "built\n");
  CHECK(count_lazy(lazy_dir).filled == 1);
  auto sum = env.sh("md5sum < " + mnt + "/data/big.bin");
  CHECK(count_lazy(lazy_dir).filled == 2);
  auto expected = env.imgbuild(
      a, {"run", "--rm", "--network", "none", "app:1", "sh", "-c", "md5sum < /data/big.bin"});
  CHECK(sum.out == expected.out);
  // The tree is the image's: the same listing as a full mount of the built image.
  // Modification times too: filling a placeholder keeps the image's. (The root is not in any
  // layer's tar, so its time is when each tree was made.)
  std::string listing = "find . -mindepth 1 -printf '%y %m %s %Ts %l %p\\n' | sort";
  auto lazy_tree = env.sh("cd " + mnt + " && " + listing + " && find . -ls >/dev/null");
  CHECK(count_lazy(lazy_dir).filled == 2);  // `find -ls` fetched nothing
  CHECK(count_lazy(lazy_dir).placeholders > 50);
  REQUIRE(env.imgbuild(b, {"umount", mnt}).exit_code == 0);
  CHECK(lazy_tree.out == listed_in_mount(env, a, "app:1", env.dir.path() + "/full-mnt", listing));
  CHECK(count(lazy_tree.out, "\n") > 100);

  // run --lazy: a writable mount over the lazy layers, whose copy-ups fill files first (append,
  // chmod, rename, a link; a directory renamed whole). The same results as a run of the image.
  std::string script =
      "echo x >> /data/note && chmod 600 /data/many/f1 && mv /data/many/f2 /data/moved && "
      "ln /data/numbers /data/numlink && mv /data/deep /data/deep2 && touch /data/many/f3 && "
      "cat /data/note /data/many/f1 /data/moved /data/many/f3 /data/deep2/a/b/c/leaf && "
      "stat -c %a /data/many/f1 && md5sum < /data/numlink && ls /data/deep2/a";
  std::string c = env.store("c");
  auto lazy_run =
      env.imgbuild(c, {"run", "--lazy", "--rm", "--network", "none", dest, "sh", "-c", script});
  INFO(lazy_run.err);
  CHECK(lazy_run.exit_code == 0);
  auto full_run =
      env.imgbuild(a, {"run", "--rm", "--network", "none", "app:1", "sh", "-c", script});
  CHECK(lazy_run.out == full_run.out);
  CHECK(lazy_run.out.starts_with("built\nx\n1\n2\n3\nleaf\n600\n"));
  auto after = count_lazy(c + "/lazy");
  CHECK(after.filled >= 6);
  CHECK(after.placeholders > 40);  // data/many's other files, numbers' layer-mates...

  // A later pull fetches the layers and the image runs from the store.
  auto pulled = env.imgbuild(b, {"pull", dest});
  INFO(pulled.err);
  REQUIRE(pulled.exit_code == 0);
  auto ran = env.imgbuild(b, {"run", "--rm", "--network", "none", dest, "cat", "/data/note"});
  CHECK(ran.out == "built\n");
}

// The acceptance, counted on a TCP proxy between imgbuild and the registry: mounting
// and `find -ls` over the whole tree transfer the manifest, config and TOCs only, `cat` of one
// small file < 1% of the layers' bytes; with the registry gone a read fails with EIO within a
// bound, files already fetched still read, and the same read succeeds once it is back.
TEST_CASE("mount --lazy through a proxy: bytes, and a registry that goes away") {
  if (!can_run()) return;
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  Env env;
  build_and_push_estargz(env, reg.host() + "/estargz/proxied:1");
  int64_t layer_bytes = 0;
  auto manifest = skopeo_raw(env, "docker://" + reg.host() + "/estargz/proxied:1");
  for (const auto& l : manifest["layers"]) {
    layer_bytes += l["size"].get<int64_t>();
  }
  auto proxy = testing::TcpProxy::start(reg.port());
  REQUIRE(proxy);
  std::string ref = (*proxy)->host() + "/estargz/proxied:1";
  std::string b = env.store("b");
  std::string mnt = env.mount_lazy(b, ref, "mnt");
  uint64_t mount_bytes = (*proxy)->bytes();
  CHECK(mount_bytes > 0);
  CHECK(static_cast<int64_t>(mount_bytes) * 10 < layer_bytes);
  auto found = env.sh("find " + mnt + " -ls | wc -l");
  CHECK(std::stoi(found.out) > 100);
  CHECK((*proxy)->bytes() == mount_bytes);  // nothing but the TOCs, fetched before the mount
  CHECK(env.sh("cat " + mnt + "/data/many/f1").out == "1\n");
  uint64_t cat_bytes = (*proxy)->bytes() - mount_bytes;
  CHECK(cat_bytes > 0);
  CHECK(static_cast<int64_t>(cat_bytes) * 100 < layer_bytes);

  (*proxy)->set_refusing(true);
  auto start = std::chrono::steady_clock::now();
  auto failed = env.sh("cat " + mnt + "/data/many/f2");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(failed.exit_code != 0);
  CHECK(failed.err.find("Input/output error") != std::string::npos);
  CHECK(seconds < 30);
  CHECK(env.sh("cat " + mnt + "/data/many/f1").out == "1\n");  // fetched before: still there
  CHECK(env.sh("ls " + mnt + "/data/many | wc -l").out == "50\n");

  (*proxy)->set_refusing(false);
  auto again = env.sh("cat " + mnt + "/data/many/f2");
  CHECK(again.exit_code == 0);
  CHECK(again.out == "2\n");
  CHECK(env.imgbuild(b, {"umount", mnt}).exit_code == 0);
  std::printf(
      "lazy proxy: layers %lld B, mount %llu B, cat %llu B, refused read failed in %.2f s\n",
      static_cast<long long>(layer_bytes), static_cast<unsigned long long>(mount_bytes),
      static_cast<unsigned long long>(cat_bytes), seconds);
}

// A registry that accepts and then hangs mid-answer: a chunk fetch ends with a network error
// once the session's stall timeout passes (the lazy mount's fill uses 10 s and 3 tries; 1 s and
// one try here), and the same fetch succeeds once the registry answers again.
TEST_CASE("a lazy read from a registry that stalls fails after the stall timeout, then recovers") {
  if (!can_run()) return;
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  Env env;
  build_and_push_estargz(env, reg.host() + "/estargz/stalled:1");
  auto proxy = testing::TcpProxy::start(reg.port());
  REQUIRE(proxy);
  registry::ClientOptions options;
  options.retry.max_attempts = 1;
  options.retry.stall_seconds = 1;
  options.retry.connect_seconds = 1;
  auto conn = registry::Connection::open((*proxy)->host(), "estargz/stalled",
                                         registry::Access::kPull, options);
  REQUIRE(conn);
  auto manifest = skopeo_raw(env, "docker://" + reg.host() + "/estargz/stalled:1");
  std::optional<image::Descriptor> layer;
  std::optional<image::EstargzIndex> index;
  for (const auto& l : manifest["layers"]) {
    auto d = image::Descriptor::from_json(l);
    REQUIRE(d);
    auto i = registry::fetch_estargz_index((*conn)->session(), *d);
    REQUIRE(i);
    if (i->lookup("data/many/f2") != nullptr) layer = *d, index = std::move(*i);
  }
  REQUIRE(index);
  auto chunks = index->chunks("data/many/f2");
  REQUIRE(chunks.size() == 1);

  (*proxy)->set_stalling(true);
  auto start = std::chrono::steady_clock::now();
  auto stalled = registry::fetch_estargz_chunk((*conn)->session(), layer->digest, chunks[0]);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE_FALSE(stalled);
  INFO(stalled.error().message());
  CHECK(stalled.error().kind() == ErrorKind::kNetwork);
  CHECK(seconds >= 0.9);
  CHECK(seconds < 10);

  (*proxy)->set_stalling(false);
  auto again = registry::fetch_estargz_chunk((*conn)->session(), layer->digest, chunks[0]);
  INFO((again ? "" : again.error().message()));
  REQUIRE(again);
  CHECK(*again == "2\n");
  std::printf("lazy stall: the stalled chunk fetch failed after %.2f s\n", seconds);
}

// Prefetch, and interop the other way: a layer made by stargz-snapshotter's own writer with
// prioritized files (before a .prefetch.landmark), pushed as it is, mounts lazily with imgbuild;
// the prioritized files are fetched in the background without being read, the others are not.
TEST_CASE("mount --lazy prefetches the files before the landmark") {
  if (!can_run()) return;
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  Env env;
  std::string d = env.dir.path();
  REQUIRE(env.sh("mkdir -p " + d + "/tree/first " + d + "/tree/later && echo one > " + d +
                 "/tree/first/a && echo two > " + d + "/tree/first/b && echo three > " + d +
                 "/tree/later/c && tar --numeric-owner -C " + d + "/tree -cf " + d +
                 "/layer.tar first later")
              .exit_code == 0);
  auto built = env.sh(std::string(ESTARGZ_CHECK_BINARY) + " build " + d + "/layer.tar " + d +
                      "/layer.esgz first/a first/b");
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  auto made = nlohmann::json::parse(built.out);
  // An OCI layout holding the layer as the writer made it, copied to the registry unchanged.
  std::string layout = d + "/layout";
  REQUIRE(fs::make_dirs(layout + "/blobs/sha256"));
  auto add_blob = [&](const std::string& data) {
    auto digest = image::Digest::of(data);
    REQUIRE(fs::write_file_atomic(layout + "/blobs/sha256/" + std::string(digest.hex()), data));
    return digest.str();
  };
  auto blob = fs::read_file(d + "/layer.esgz");
  REQUIRE(blob);
  std::string config =
      nlohmann::json{{"architecture", "amd64"},
                     {"os", "linux"},
                     {"rootfs", {{"type", "layers"}, {"diff_ids", {made["diffID"]}}}},
                     {"config", nlohmann::json::object()}}
          .dump();
  nlohmann::json layer = {
      {"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
      {"digest", add_blob(*blob)},
      {"size", blob->size()},
      {"annotations", {{"containerd.io/snapshot/stargz/toc.digest", made["tocDigest"]}}}};
  std::string manifest = nlohmann::json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
        {"digest", add_blob(config)},
        {"size", config.size()}}},
      {"layers", {layer}}}.dump();
  nlohmann::json index = {{"schemaVersion", 2},
                          {"manifests",
                           {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"digest", add_blob(manifest)},
                             {"size", manifest.size()},
                             {"annotations", {{"org.opencontainers.image.ref.name", "1"}}}}}}};
  REQUIRE(fs::write_file_atomic(layout + "/index.json", index.dump()));
  REQUIRE(fs::write_file_atomic(layout + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
  std::string ref = reg.host() + "/estargz/landmark:1";
  auto copied = env.sh("skopeo copy --dest-tls-verify=false oci:" + layout + ":1 docker://" + ref);
  INFO(copied.err);
  REQUIRE(copied.exit_code == 0);

  std::string b = env.store("b");
  std::string mnt = env.mount_lazy(b, ref, "mnt");
  // Nothing reads the mount: the prefetch fills first/a and first/b on its own.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (count_lazy(b + "/lazy").filled < 2 && std::chrono::steady_clock::now() < deadline) {
    ::usleep(50'000);
  }
  CHECK(count_lazy(b + "/lazy").filled == 2);
  CHECK(dir_state(b + "/lazy", "later") == "unmade");
  CHECK(env.sh("cat " + mnt + "/first/a " + mnt + "/later/c").out == "one\nthree\n");
  CHECK(count_lazy(b + "/lazy").filled == 3);
  CHECK(env.sh("cd " + mnt + " && find first later | sort").out ==
        "first\nfirst/a\nfirst/b\nlater\nlater/c\n");
  CHECK(env.imgbuild(b, {"umount", mnt}).exit_code == 0);
}

TEST_CASE("push --compression estargz writes layers the stargz reader verifies") {
  if (!can_run()) return;
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  Env env;
  std::string a = env.store("a");
  testing::import_busybox(a, "busybox:latest", env.dir.path() + "/busybox.tar");
  auto built = env.imgbuild(a, {"build", "-t", "app:1", "-q", env.context});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  std::string image_id = built.out.substr(0, built.out.find('\n'));

  std::string dest = reg.host() + "/estargz/app:1";
  auto pushed = env.imgbuild(a, {"-D", "push", "--compression", "estargz", "app:1", dest});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  CHECK(count(pushed.err, "to eStargz sha256:") == 3);  // busybox's layer and both built ones
  check_estargz(env, dest, env.dir.path() + "/copy");
  // The TOC is part of what each layer unpacks to: new diff IDs, so a new image ID.
  CHECK(skopeo_raw(env, "docker://" + dest)["config"]["digest"] != image_id);

  // What a lazy reader does: each layer's TOC by Range (verified against the annotation), then a
  // file's chunks (verified against the TOC), for a fraction of the layers' bytes.
  auto conn = registry::Connection::open(reg.host(), "estargz/app", registry::Access::kPull, {});
  REQUIRE(conn);
  int64_t layer_bytes = 0;
  int64_t toc_bytes = 0;
  int64_t note_bytes = 0;
  int64_t big_bytes = 0;
  std::string note, big;
  auto pushed_manifest = skopeo_raw(env, "docker://" + dest);
  for (const auto& l : pushed_manifest["layers"]) {
    auto layer = image::Descriptor::from_json(l);
    REQUIRE(layer);
    layer_bytes += layer->size;
    auto index = registry::fetch_estargz_index((*conn)->session(), *layer, &toc_bytes);
    INFO(layer->digest.str());
    REQUIRE(index);
    auto read = [&](const char* path, std::string& out, int64_t& bytes) {
      for (const auto& chunk : index->chunks(path)) {
        auto data = registry::fetch_estargz_chunk((*conn)->session(), layer->digest, chunk, &bytes);
        REQUIRE(data);
        out += *data;
      }
    };
    read("data/note", note, note_bytes);
    read("/data/big.bin", big, big_bytes);
  }
  CHECK(note == "built\n");
  CHECK(note_bytes * 100 < layer_bytes);
  CHECK(toc_bytes * 10 < layer_bytes);
  CHECK(big.size() == 5u << 20);
  auto sum =
      env.imgbuild(a, {"run", "--rm", "--network", "none", "app:1", "sha256sum", "/data/big.bin"});
  CHECK(sum.out.substr(0, 64) == image::Digest::of(big).hex());

  // A second push converts and uploads nothing.
  auto again = env.imgbuild(a, {"-D", "push", "--compression", "estargz", "app:1", dest});
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(count(again.err, "to eStargz sha256:") == 0);
  CHECK(count(again.out, ": Pushed\n") == 0);
  CHECK(again.out.substr(again.out.rfind("1: digest: ")) ==
        pushed.out.substr(pushed.out.rfind("1: digest: ")));

  // An empty store pulls it like any gzip image, to the same tree.
  std::string b = env.store("b");
  auto pulled = env.imgbuild(b, {"pull", dest});
  INFO(pulled.err);
  REQUIRE(pulled.exit_code == 0);
  CHECK(tree_of(env, b, dest, env.dir.path() + "/mnt-b") ==
        tree_of(env, a, "app:1", env.dir.path() + "/mnt-a"));
  auto ran = env.imgbuild(b, {"run", "--rm", "--network", "none", dest, "cat", "/data/note"});
  CHECK(ran.out == "built\n");

  // A gzip image pulled from a registry converts too (`push --compression estargz SRC DST`).
  std::string gzip_dest = reg.host() + "/estargz/app:gzip";
  REQUIRE(env.imgbuild(a, {"push", "app:1", gzip_dest}).exit_code == 0);
  std::string c = env.store("c");
  REQUIRE(env.imgbuild(c, {"pull", gzip_dest}).exit_code == 0);
  std::string converted = reg.host() + "/estargz/app:converted";
  auto conv = env.imgbuild(c, {"push", "--compression", "estargz", gzip_dest, converted});
  INFO(conv.err);
  REQUIRE(conv.exit_code == 0);
  check_estargz(env, converted, env.dir.path() + "/copy-converted");
  // The same layers, so the same eStargz blobs as the ones pushed from the building store.
  CHECK(skopeo_raw(env, "docker://" + converted)["layers"] ==
        skopeo_raw(env, "docker://" + dest)["layers"]);
}

// run --lazy beyond a foreground --rm run (the issue: "run --lazy of examples/web serves its page
// before the image has fully downloaded"): examples/web, plus a layer with a file the server
// never reads, pushed as eStargz. `run -d --lazy -p` serves the page while that file and every
// layer blob are still only on the registry; the container's monitor serves the lazy mount, and a
// restart (stop, start) mounts it lazily again. A stopped lazy container's files copy out (cp
// mounts it with the fetches); `mount --lazy --rw` writes to an upper; `create --lazy` + `start
// -a` runs too.
TEST_CASE("run -d --lazy serves examples/web before the image has downloaded") {
  if (!can_run()) return;
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  Env env;
  std::string dest = reg.host() + "/estargz/web:1";
  std::string a = build_web(env);
  std::string ctx = env.dir.path() + "/web-big";
  REQUIRE(fs::make_dirs(ctx));
  REQUIRE(fs::write_file_atomic(ctx + "/Dockerfile",
                                "FROM web:1\nRUN head -c 3000000 /dev/urandom > /unread.bin\n"));
  REQUIRE(env.imgbuild(a, {"build", "-q", "-t", "web-big:1", ctx}).exit_code == 0);
  auto pushed = env.imgbuild(a, {"push", "-q", "--compression", "estargz", "web-big:1", dest});
  INFO(pushed.err);
  REQUIRE(pushed.exit_code == 0);
  auto page = fs::read_file(IMGBUILD_SOURCE_DIR "/examples/web/index.html");
  REQUIRE(page);

  std::string c = env.store("c");
  auto ran = env.imgbuild(c, {"run", "-d", "--lazy", "--name", "web", "-p", "80", dest});
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  struct Remove {
    Env& env;
    std::string store;
    ~Remove() { env.imgbuild(store, {"rm", "-f", "web", "made"}); }
  } remove{env, c};
  // The page, fetched with busybox's wget as soon as the server answers.
  auto get_page = [&] {
    auto port = env.imgbuild(c, {"port", "web", "80"});
    REQUIRE(port.exit_code == 0);
    std::string host_port = port.out.substr(port.out.rfind(':') + 1);
    while (!host_port.empty() && host_port.back() == '\n') host_port.pop_back();
    return env.sh("for i in $(seq 1 100); do busybox wget -qO- http://127.0.0.1:" + host_port +
                  "/ 2>/dev/null && exit 0; sleep 0.2; done; exit 1");
  };
  auto served = get_page();
  CHECK(served.exit_code == 0);
  CHECK(served.out == *page);
  auto counts = count_lazy(c + "/lazy");
  CHECK(counts.placeholders >= 1);  // /unread.bin, at least
  CHECK(counts.filled >= 2);        // busybox, index.html
  auto manifest = skopeo_raw(env, "docker://" + dest);
  for (const auto& l : manifest["layers"]) {
    CHECK(!fs::exists(c + "/blobs/sha256/" + l["digest"].get<std::string>().substr(7)));
  }
  // A restart mounts it lazily again, in a new monitor.
  REQUIRE(env.imgbuild(c, {"stop", "-t", "1", "web"}).exit_code == 0);
  REQUIRE(env.imgbuild(c, {"start", "web"}).exit_code == 0);
  served = get_page();
  CHECK(served.out == *page);
  // A stopped container's never-read file copies out, fetched on the way.
  REQUIRE(env.imgbuild(c, {"stop", "-t", "1", "web"}).exit_code == 0);
  std::string copied = env.dir.path() + "/unread.bin";
  auto cp = env.imgbuild(c, {"cp", "web:/unread.bin", copied});
  INFO(cp.err);
  REQUIRE(cp.exit_code == 0);
  auto expected =
      env.imgbuild(a, {"run", "--rm", "--network", "none", "web-big:1", "md5sum", "/unread.bin"});
  CHECK(env.sh("md5sum < " + copied).out.substr(0, 32) == expected.out.substr(0, 32));
  CHECK(count_lazy(c + "/lazy").placeholders == counts.placeholders - 1);
  // mount --lazy --rw: writes go to an upper, the lazy file is filled before it is copied up.
  std::string rw = env.dir.path() + "/rw-mnt";
  REQUIRE(fs::make_dirs(rw));
  auto rw_mounted = env.imgbuild(c, {"mount", "--lazy", "--rw", dest, rw});
  INFO(rw_mounted.err);
  REQUIRE(rw_mounted.exit_code == 0);
  auto appended = env.sh("echo more >> " + rw + "/www/index.html && cat " + rw + "/www/index.html");
  CHECK(appended.out == *page + "more\n");
  CHECK(env.imgbuild(c, {"umount", rw}).exit_code == 0);
  // create --lazy, then start -a.
  auto made = env.imgbuild(c, {"create", "--lazy", "--name", "made", "--network", "none", dest,
                               "cat", "/www/index.html"});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  auto started = env.imgbuild(c, {"start", "-a", "made"});
  CHECK(started.exit_code == 0);
  CHECK(started.out == *page);
}

// Layers that are not eStargz (the issue: "fetched whole, in the background, and block only the
// reads that need them"): a gzip image mounted lazily. The mount is made before any layer is
// fetched; the first read waits for the layers, the tree is the image's, the blobs are then in
// the store (a pull only unpacks them), and a tree an earlier process left half extracted
// (marked, with a stray file) is made again.
TEST_CASE("mount --lazy fetches layers that are not eStargz whole, in the background") {
  if (!can_run()) return;
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  Env env;
  std::string dest = reg.host() + "/estargz/web-gzip:1";
  std::string a = build_web(env);
  auto pushed = env.imgbuild(a, {"push", "-q", "web:1", dest});
  INFO(pushed.err);
  REQUIRE(pushed.exit_code == 0);
  auto manifest = skopeo_raw(env, "docker://" + dest);
  REQUIRE(manifest["layers"].size() == 2);
  std::string bottom = manifest["layers"][0]["digest"].get<std::string>().substr(7);

  std::string d = env.store("d");
  // An interrupted extraction of the bottom layer, by an earlier process.
  std::string stale = d + "/lazy/sha256/" + bottom;
  REQUIRE(fs::make_dirs(stale + "/half"));
  REQUIRE(fs::write_file_atomic(stale + "/half/stray", "x"));
  REQUIRE(::setxattr(stale.c_str(), "user.imgbuild.lazydir", "", 0, 0) == 0);

  std::string mnt = env.mount_lazy(d, dest, "gzip-mnt");
  auto page = fs::read_file(IMGBUILD_SOURCE_DIR "/examples/web/index.html");
  REQUIRE(page);
  CHECK(env.sh("cat " + mnt + "/www/index.html").out == *page);
  for (const auto& l : manifest["layers"]) {
    std::string hex = l["digest"].get<std::string>().substr(7);
    CHECK(fs::exists(d + "/blobs/sha256/" + hex));
  }
  CHECK(dir_state(d + "/lazy", "") == "made");  // no tree is marked any more
  CHECK(!fs::exists(stale + "/half"));
  std::string listing = "find . -mindepth 1 -printf '%y %m %s %u %l %p\\n' | sort";
  auto lazy_tree = env.sh("cd " + mnt + " && " + listing);
  REQUIRE(env.imgbuild(d, {"umount", mnt}).exit_code == 0);
  CHECK(lazy_tree.out == listed_in_mount(env, a, "web:1", env.dir.path() + "/gzip-full", listing));
  CHECK(count(lazy_tree.out, "\n") > 10);
  // A pull finds the blobs and only unpacks them.
  auto pulled = env.imgbuild(d, {"pull", dest});
  INFO(pulled.err);
  CHECK(pulled.exit_code == 0);
  CHECK(env.imgbuild(d, {"run", "--rm", "--network", "none", dest, "cat", "/www/index.html"}).out ==
        *page);
}
