// A pull after a lazy mount fetches only what the mount did not (issue 15): the layer bytes the
// mount's reads fetched are kept as partial blobs (image/partial_blob.h) and the pull requests
// only the gaps, counted on a TCP proxy against a plain pull of the same image; the result is
// the same image, layers and tree; and a partial blob with a wrong byte still gives a correct
// pull (the whole layer downloaded again). Real builds, mounts and registry; needs root,
// /dev/fuse and Debian's docker-registry.
#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/subprocess.h"
#include "image/partial_blob.h"
#include "image/store.h"
#include "tests/support/imgbuild_cli.h"
#include "tests/support/registry_server.h"
#include "tests/support/skip.h"
#include "tests/support/tcp_proxy.h"

using namespace imgbuild;

namespace {

bool lazy_pull_can_run() {
  if (::geteuid() != 0 || !fs::exists("/dev/fuse")) {
    return testing::skip("lazy pull tests need root and /dev/fuse");
  }
  if (!testing::RegistryServer::available()) {
    return testing::skip("lazy pull tests need docker-registry");
  }
  return true;
}

// Two 3 MiB files (each a chunk or two of the eStargz layer) and a small one.
constexpr const char* kDockerfile =
    "FROM busybox:test\n"
    "RUN mkdir /data && dd if=/dev/urandom of=/data/a.bin bs=1M count=3 2>/dev/null && "
    "dd if=/dev/urandom of=/data/b.bin bs=1M count=3 2>/dev/null && echo small > /data/s\n";

std::string sh(const std::string& script) {
  auto r = run_process({"sh", "-c", script});
  REQUIRE(r);
  INFO(script << ": " << r->err);
  REQUIRE(r->exit_code == 0);
  return r->out;
}

// A store of its own (--root) for each case, in the test's directory.
struct Root {
  std::string root;
  ProcessResult run(std::vector<std::string> args) const {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root", root};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv);
    REQUIRE(r);
    return *r;
  }
  void ok(std::vector<std::string> args) const {
    auto r = run(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  ProcessResult pull(const std::string& ref) const {
    auto r = run({"pull", ref});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  image::Image image(const std::string& ref) const {
    auto store = image::Store::open(root);
    REQUIRE(store);
    auto img = store->resolve(ref);
    REQUIRE(img);
    return *img;
  }
  std::vector<std::string> partials() const {
    auto names = fs::list_dir(root + "/lazy/sha256", fs::MissingDir::kIsEmpty);
    REQUIRE(names);
    std::vector<std::string> out;
    for (const auto& n : *names) {
      if (n.ends_with(".partial")) out.push_back(root + "/lazy/sha256/" + n);
    }
    return out;
  }
  // The image's tree through a mount: type, mode, size, path, and the data files' sums.
  std::string tree(const std::string& ref, const std::string& mnt) const {
    REQUIRE(fs::make_dirs(mnt));
    ok({"mount", ref, mnt});
    auto listed = run_process(
        {"sh", "-c", "cd " + mnt + " && find . -printf '%y %m %s %p\\n' | sort && md5sum data/*"});
    ok({"umount", mnt});
    REQUIRE(listed);
    REQUIRE(listed->exit_code == 0);
    return listed->out;
  }
  // mount --lazy, `cat` of the files, umount.
  void lazy_read(const std::string& ref, const std::string& mnt,
                 const std::vector<std::string>& files) const {
    REQUIRE(fs::make_dirs(mnt));
    ok({"mount", "--lazy", ref, mnt});
    for (const auto& f : files) sh("cat " + mnt + f + " >/dev/null");
    ok({"umount", mnt});
  }
};

}  // namespace

TEST_CASE("a pull after a lazy mount downloads only what the mount did not fetch") {
  if (!lazy_pull_can_run()) return;
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  testing::ImgbuildCli cli("imgbuild-lazy-pull-");
  std::string dir = cli.dir.path();
  REQUIRE(fs::make_dirs(dir + "/ctx"));
  REQUIRE(fs::write_file_atomic(dir + "/ctx/Dockerfile", kDockerfile));
  auto built = cli.run({"build", "-q", "--network", "none", "-t", "app:1", dir + "/ctx"});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  auto pushed =
      cli.run({"push", "--compression", "estargz", "app:1", reg.host() + "/estargz/partial:1"});
  INFO(pushed.err);
  REQUIRE(pushed.exit_code == 0);
  auto proxy = testing::TcpProxy::start(reg.port());
  REQUIRE(proxy);
  std::string ref = (*proxy)->host() + "/estargz/partial:1";
  auto counted = [&](const std::function<void()>& step) {  // the bytes step() transferred
    auto start = static_cast<int64_t>((*proxy)->bytes());
    step();
    return static_cast<int64_t>((*proxy)->bytes()) - start;
  };

  // A plain pull: the reference for bytes, image and tree.
  Root plain{dir + "/plain"};
  int64_t plain_bytes = counted([&] { plain.pull(ref); });
  image::Image expected = plain.image(ref);
  int64_t layer_bytes = 0;
  for (const auto& l : expected.manifest.layers) layer_bytes += l.size;
  CHECK(plain_bytes > layer_bytes);
  std::string expected_tree = plain.tree(ref, dir + "/m-plain");

  // Lazy reads of a big and a small file, then a pull.
  Root lazy{dir + "/lazy"};
  int64_t lazy_bytes = counted([&] {
    lazy.lazy_read(ref, dir + "/m-lazy", {"/data/a.bin", "/data/s"});
  });
  CHECK(lazy_bytes > 3 << 20);
  CHECK(lazy.partials().size() == expected.manifest.layers.size());
  ProcessResult pulled;
  int64_t after_bytes = counted([&] { pulled = lazy.pull(ref); });
  CHECK(pulled.out.find("from the lazy cache)") != std::string::npos);
  // What the reads fetched is not fetched again: the pull saves all of it but the requests'
  // overhead and the ranges too short to be worth a request of their own (< 64 KiB: the small
  // file, perhaps a TOC), downloaded again with their gaps.
  CHECK(after_bytes + lazy_bytes < plain_bytes + (256 << 10));
  CHECK(after_bytes < plain_bytes - (3 << 20));
  CHECK(lazy.partials().empty());  // the pull completed the blobs
  image::Image got = lazy.image(ref);
  CHECK(got.id() == expected.id());
  CHECK(got.config.diff_ids == expected.config.diff_ids);
  CHECK(lazy.tree(ref, dir + "/m-lazy-full") == expected_tree);

  // A wrong byte in the middle of the largest range a lazy read kept: the pull notices the
  // blob's digest mismatch and downloads the layer whole.
  Root bad{dir + "/bad"};
  bad.lazy_read(ref, dir + "/m-bad", {"/data/b.bin"});
  auto partials = bad.partials();
  REQUIRE(!partials.empty());
  std::string biggest;
  image::ByteRange range;
  for (const auto& p : partials) {
    std::string ranges_file = p.substr(0, p.size() - 8) + ".ranges";
    std::string text = *fs::read_file(ranges_file);
    for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
      auto r = image::parse_partial_range_line(text.substr(at, nl + 1 - at));
      REQUIRE(r);
      if (r->end - r->begin > range.end - range.begin) range = *r, biggest = p;
    }
  }
  REQUIRE(range.end - range.begin > 1 << 20);
  sh("printf '\\001' | dd of=" + biggest +
     " bs=1 seek=" + std::to_string((range.begin + range.end) / 2) + " conv=notrunc 2>/dev/null");
  ProcessResult repulled;
  int64_t bad_bytes = counted([&] { repulled = bad.pull(ref); });
  INFO(repulled.err);
  CHECK(repulled.err.find("digest mismatch") != std::string::npos);
  CHECK(repulled.err.find("downloading it whole") != std::string::npos);
  CHECK(bad_bytes > layer_bytes);  // the damaged layer once more, whole
  CHECK(bad.partials().empty());
  CHECK(bad.image(ref).id() == expected.id());
  CHECK(bad.tree(ref, dir + "/m-bad-full") == expected_tree);
  std::printf(
      "lazy pull: layers %lld B; plain pull %lld B; lazy reads %lld B, pull after them %lld B; "
      "pull after a damaged partial blob %lld B\n",
      static_cast<long long>(layer_bytes), static_cast<long long>(plain_bytes),
      static_cast<long long>(lazy_bytes), static_cast<long long>(after_bytes),
      static_cast<long long>(bad_bytes));
}
