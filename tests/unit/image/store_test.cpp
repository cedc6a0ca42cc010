#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>

#include "base/fs.h"
#include "image/json_util.h"
#include "image/layer_writer.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/partial_blob.h"
#include "image/store.h"
#include "image/store_layout.h"

using namespace imgbuild;
using namespace imgbuild::image;

namespace {

struct TestStore {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-store-test-");
  Store store = *Store::open(fs::join(dir.path(), "root"));
};

std::vector<std::string> list(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// An image with one (fake, never unpacked) layer blob.
CommittedImage make_image(const Store& store, std::string_view layer_content,
                          std::string created = "2024-01-01T00:00:00Z") {
  Digest layer = *store.put_blob(layer_content);
  ImageConfig config;
  config.architecture = "amd64";
  config.os = "linux";
  config.created = std::move(created);
  config.diff_ids.push_back(Digest::of(std::string(layer_content) + "-diff"));
  Descriptor d{.media_type = std::string(media_types::kOciLayerGzip),
               .digest = layer,
               .size = static_cast<int64_t>(layer_content.size())};
  return *store.commit_image(config, {d});
}

Reference parse_ref(std::string_view s) { return *Reference::parse(s); }

}  // namespace

TEST_CASE("store open creates an OCI layout") {
  TestStore t;
  const std::string& root = t.store.root();
  CHECK(list(root) == std::vector<std::string>{"blobs", "cache", "containers", "gc.lock",
                                               "index.json", "index.lock", "layers", "mounts",
                                               "oci-layout", "tmp", "variants"});
  CHECK(*fs::read_file(root + "/oci-layout") == R"({"imageLayoutVersion":"1.0.0"})");
  CHECK(
      *fs::read_file(root + "/index.json") ==
      R"({"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
  // Reopening changes nothing.
  REQUIRE(Store::open(root));
  CHECK(list(root + "/blobs/sha256").empty());
}

TEST_CASE("store blobs are content addressed and verified") {
  TestStore t;
  Digest d = *t.store.put_blob("hello");
  CHECK(d == Digest::of("hello"));
  CHECK(t.store.has_blob(d));
  CHECK(*t.store.read_blob(d) == "hello");
  CHECK(*t.store.blob_size(d) == 5);
  CHECK(*t.store.put_blob("hello") == d);

  Digest missing = Digest::of("nope");
  CHECK(t.store.read_blob(missing).error().message() == "blob not found: " + missing.str());

  auto w = *t.store.blob_writer();
  REQUIRE(w.write("abc"));
  auto bad = w.commit(Digest::of("xyz"));
  CHECK(bad.error().message() == "blob digest mismatch: expected " + Digest::of("xyz").str() +
                                     ", got " + Digest::of("abc").str());
  CHECK(!t.store.has_blob(Digest::of("abc")));
  {
    auto discarded = *t.store.blob_writer();
    REQUIRE(discarded.write("partial"));
  }
  CHECK(list(t.store.tmp_dir()).empty());

  // A blob corrupted on disk is detected on read.
  REQUIRE(fs::write_file_atomic(t.store.blob_path(d), "HELLO"));
  CHECK(t.store.read_blob(d).error().message() == "blob " + t.store.blob_path(d) +
                                                      " is corrupt: its content hashes to " +
                                                      Digest::of("HELLO").str());
}

TEST_CASE("store ingests staged files and refuses mismatches") {
  TestStore t;
  auto f = *t.store.make_staging_file("test");
  CHECK(f.path().starts_with(t.store.tmp_dir() + "/" + staging_owner_tag() + "-test-"));
  REQUIRE(::write(f.fd(), "data", 4) == 4);
  auto wrong = t.store.ingest_blob_file(f.path(), Digest::of("other"));
  CHECK(wrong.error().message() == "blob digest mismatch: expected " + Digest::of("other").str() +
                                       ", got " + Digest::of("data").str() + " (" + f.path() + ")");
  CHECK(*t.store.ingest_blob_file(f.path(), Digest::of("data")) == Digest::of("data"));
  f.release();
  CHECK(*t.store.read_blob(Digest::of("data")) == "data");
  CHECK(list(t.store.tmp_dir()).empty());
}

TEST_CASE("store tags, resolves and lists images") {
  TestStore t;
  auto a = make_image(t.store, "layer-a", "2024-01-01T00:00:00Z");
  auto b = make_image(t.store, "layer-b", "2024-02-01T00:00:00Z");
  REQUIRE(t.store.tag(parse_ref("app"), a.manifest_digest));
  REQUIRE(t.store.tag(parse_ref("localhost:5000/ns/app:1"), a.manifest_digest));

  CHECK(t.store.resolve("app")->manifest_digest == a.manifest_digest);
  CHECK(t.store.resolve("docker.io/library/app:latest")->config_digest == a.config_digest);
  CHECK(t.store.resolve(a.config_digest.str())->manifest_digest == a.manifest_digest);
  CHECK(t.store.resolve(a.config_digest.hex())->manifest_digest == a.manifest_digest);
  CHECK(t.store.resolve(a.config_digest.short_hex())->manifest_digest == a.manifest_digest);
  CHECK(t.store.resolve(a.manifest_digest.str())->config_digest == a.config_digest);
  CHECK(t.store.resolve("app@" + a.manifest_digest.str())->config_digest == a.config_digest);
  CHECK(t.store.resolve(b.config_digest.short_hex())->manifest_digest == b.manifest_digest);
  CHECK(t.store.resolve("app:2").error().message() == "image not found: app:2");
  CHECK(t.store.resolve("other").error().message() == "image not found: other:latest");
  CHECK(t.store.resolve("Bad").error().message() ==
        "invalid reference \"Bad\": repository name must be lowercase");

  auto image = *t.store.resolve("app");
  CHECK(image.tags == std::vector<Reference>{parse_ref("docker.io/library/app:latest"),
                                             parse_ref("localhost:5000/ns/app:1")});
  CHECK(image.manifest.layers.size() == 1);
  CHECK(image.config.os == "linux");

  auto images = *t.store.list_images();
  REQUIRE(images.size() == 2);
  CHECK(images[0].manifest_digest == b.manifest_digest);  // newest first, untagged
  CHECK(images[0].tags.empty());
  CHECK(images[1].tags.size() == 2);

  auto index = *fs::read_file(t.store.root() + "/index.json");
  CHECK(index.find("\"org.opencontainers.image.ref.name\":\"docker.io/library/app:latest\"") !=
        std::string::npos);
}

TEST_CASE("store retagging leaves the old image dangling and untag removes it") {
  TestStore t;
  auto a = make_image(t.store, "a");
  auto b = make_image(t.store, "b");
  REQUIRE(t.store.tag(parse_ref("app"), a.manifest_digest));
  REQUIRE(t.store.tag(parse_ref("app"), b.manifest_digest));
  auto entries = *t.store.index_entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].ref->str() == "docker.io/library/app:latest");
  CHECK(entries[0].descriptor.digest == b.manifest_digest);
  CHECK(!entries[1].ref);
  CHECK(entries[1].descriptor.digest == a.manifest_digest);

  CHECK(*t.store.untag(parse_ref("app")) == b.manifest_digest);
  CHECK(t.store.untag(parse_ref("app")).error().message() == "no such tag: app:latest");
  entries = *t.store.index_entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].descriptor.digest == a.manifest_digest);
}

TEST_CASE("store prune keeps what tags and records reach") {
  TestStore t;
  auto kept = make_image(t.store, "kept");
  auto dangling = make_image(t.store, "dangling");
  auto recorded = make_image(t.store, "recorded");
  auto untagged = make_image(t.store, "untagged");
  REQUIRE(t.store.tag(parse_ref("kept"), kept.manifest_digest));
  REQUIRE(t.store.tag(parse_ref("gone"), untagged.manifest_digest));
  REQUIRE(t.store.untag(parse_ref("gone")));
  Digest loose = *t.store.put_blob("loose");
  Digest recorded_blob = *t.store.put_blob("recorded-blob");
  REQUIRE(fs::make_dirs(t.store.layer_path(Digest::of("unused-layer")) + "/etc"));
  REQUIRE(fs::make_dirs(t.store.layer_path(Digest::of("used-layer"))));
  REQUIRE(t.store.write_gc_record(t.store.cache_records_dir() + "/k.json",
                                  GcRecord{.manifests = {recorded.manifest_digest},
                                           .blobs = {recorded_blob},
                                           .layers = {Digest::of("used-layer")}}));

  auto report = *t.store.prune();
  CHECK(report.untagged_images == std::vector<Digest>{dangling.manifest_digest});
  CHECK(report.layers == std::vector<Digest>{Digest::of("unused-layer")});
  CHECK(report.blobs.size() == 7);  // 3 each of dangling and untagged, and the loose one
  CHECK(t.store.has_blob(kept.manifest_digest));
  CHECK(t.store.has_blob(kept.config_digest));
  CHECK(t.store.has_blob(recorded.manifest_digest));
  CHECK(t.store.has_blob(recorded_blob));
  CHECK(t.store.has_layer(Digest::of("used-layer")));
  CHECK(!t.store.has_blob(dangling.manifest_digest));
  CHECK(!t.store.has_blob(untagged.manifest_digest));
  CHECK(!t.store.has_blob(loose));
  CHECK(!t.store.has_layer(Digest::of("unused-layer")));
  CHECK(list(t.store.tmp_dir()).empty());
  CHECK(t.store.prune()->blobs.empty());
}

TEST_CASE("store prune keeps the lazy trees of live images' layers, and their partial blobs") {
  TestStore t;
  auto kept = make_image(t.store, "kept");
  auto mounted = make_image(t.store, "mounted");  // untagged, but a mount's record holds it
  auto removed = make_image(t.store, "removed");  // untagged and unreferenced
  REQUIRE(t.store.tag(parse_ref("kept"), kept.manifest_digest));
  REQUIRE(t.store.write_gc_record(t.store.mounts_dir() + "/m.json",
                                  GcRecord{.manifests = {mounted.manifest_digest}}));
  auto lazy_tree = [&](const CommittedImage& image) {
    auto manifest = *Manifest::from_json(
        *json_util::parse(*t.store.read_blob(image.manifest_digest), "manifest"));
    std::string dir = fs::join(t.store.lazy_dir(), std::string(manifest.layers[0].digest.hex()));
    REQUIRE(fs::make_dirs(dir + "/etc"));
    return std::pair{manifest.layers[0].digest, dir};
  };
  auto [kept_blob, kept_dir] = lazy_tree(kept);
  auto [mounted_blob, mounted_dir] = lazy_tree(mounted);
  auto [removed_blob, removed_dir] = lazy_tree(removed);
  std::string stray = fs::join(t.store.lazy_dir(), std::string(Digest::of("stray").hex()));
  REQUIRE(fs::make_dirs(stray));
  // What lazy mounts fetched of the blobs (image/partial_blob.h): kept while the blob is live and
  // not yet whole in the store. The mounted image's layer blob is not here (a lazy mount's).
  REQUIRE(::unlink(t.store.blob_path(mounted_blob).c_str()) == 0);
  auto partial = [&](const Digest& blob) {
    auto p = PartialBlob::create(t.store, Descriptor{.digest = blob, .size = 4});
    REQUIRE(p);
    REQUIRE(p->add(0, "abcd"));
  };
  for (const auto& d : {kept_blob, mounted_blob, removed_blob, Digest::of("stray")}) partial(d);
  // Staging directories of lazy trees: a dead maker's goes, a live one's (this process) stays.
  std::string dead_staging = kept_dir + ".tmp-999999999";
  std::string live_staging = kept_dir + ".tmp-" + std::to_string(::getpid());
  REQUIRE(fs::make_dirs(dead_staging + "/etc"));
  REQUIRE(fs::make_dirs(live_staging + "/etc"));

  auto report = *t.store.prune();
  CHECK_FALSE(fs::exists(dead_staging));
  CHECK(fs::exists(live_staging + "/etc"));
  std::vector<Digest> gone = report.lazy_layers;
  std::sort(gone.begin(), gone.end());
  std::vector<Digest> expected{removed_blob, Digest::of("stray")};
  std::sort(expected.begin(), expected.end());
  CHECK(gone == expected);
  CHECK(fs::exists(kept_dir + "/etc"));
  CHECK(fs::exists(mounted_dir + "/etc"));
  CHECK_FALSE(fs::exists(removed_dir));
  CHECK_FALSE(fs::exists(stray));
  CHECK(list(t.store.tmp_dir()).empty());
  std::vector<Digest> partials = report.partial_blobs;
  std::sort(partials.begin(), partials.end());
  std::vector<Digest> dropped{kept_blob, removed_blob, Digest::of("stray")};
  std::sort(dropped.begin(), dropped.end());
  CHECK(partials == dropped);  // kept_blob: the whole blob is in the store
  CHECK(fs::exists(PartialBlob::data_path(t.store, mounted_blob)));
  CHECK(fs::exists(PartialBlob::ranges_path(t.store, mounted_blob)));
  for (const auto& d : dropped) {
    CHECK_FALSE(fs::exists(PartialBlob::data_path(t.store, d)));
    CHECK_FALSE(fs::exists(PartialBlob::ranges_path(t.store, d)));
  }
}

TEST_CASE("store open removes staging leftovers of dead processes only") {
  TestStore t;
  std::string tmp = t.store.tmp_dir();
  REQUIRE(fs::make_dirs(tmp + "/999999999.12345-unpack-abcdef/layer/etc"));
  REQUIRE(fs::write_file_atomic(tmp + "/999999999.12345-blob-abcdef", "partial"));
  std::string mine = tmp + "/" + staging_prefix("blob") + "live";
  REQUIRE(fs::write_file_atomic(mine, "in progress"));
  // Same pid, different start time: a reused pid, so the entry is orphaned.
  std::string reused = tmp + "/" + std::to_string(::getpid()) + ".1-blob-x";
  REQUIRE(fs::write_file_atomic(reused, "old"));
  REQUIRE(fs::write_file_atomic(t.store.root() + "/index.json.tmp-abc123", "{"));
  REQUIRE(Store::open(t.store.root()));
  CHECK(list(tmp) == std::vector<std::string>{staging_prefix("blob") + "live"});
  CHECK(!fs::exists(t.store.root() + "/index.json.tmp-abc123"));
}

TEST_CASE("store tags from many threads without losing any") {
  TestStore t;
  auto a = make_image(t.store, "a");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        auto r = parse_ref("app:t" + std::to_string(i) + "-" + std::to_string(j));
        if (!t.store.tag(r, a.manifest_digest)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(t.store.index_entries()->size() == 40);
  CHECK(t.store.resolve("app:t3-9")->manifest_digest == a.manifest_digest);
}

TEST_CASE("store unpacks layers once and adopts staged directories") {
  TestStore t;
  auto src = *fs::TempDir::create("/tmp", "imgbuild-layer-src-");
  REQUIRE(fs::make_dirs(src.path() + "/etc"));
  REQUIRE(fs::write_file_atomic(src.path() + "/etc/hello", "world"));
  REQUIRE(fs::write_file_atomic(src.path() + "/.wh.gone", ""));
  auto staged = *t.store.make_staging_file("layer");
  auto blob = write_layer_from_dir(src.path(), staged.fd());
  REQUIRE(blob);
  REQUIRE(t.store.ingest_blob_file(staged.path(), blob->digest));
  staged.release();
  Descriptor d{.media_type = blob->media_type, .digest = blob->digest, .size = blob->size};
  ImageConfig config;
  config.os = "linux";
  config.architecture = "amd64";
  config.diff_ids = {blob->diff_id};
  auto committed = *t.store.commit_image(config, {d});
  auto image = *t.store.load_image(committed.manifest_digest);

  auto dirs = t.store.prepare_layers(image);
  REQUIRE(dirs);
  REQUIRE(dirs->size() == 1);
  CHECK((*dirs)[0] == t.store.layer_path(blob->diff_id));
  CHECK(*fs::read_file((*dirs)[0] + "/etc/hello") == "world");
  CHECK(fs::exists((*dirs)[0] + "/.wh.gone"));
  CHECK(*t.store.unpack_layer(d, blob->diff_id) == (*dirs)[0]);

  auto wrong = t.store.unpack_layer(d, Digest::of("x"));
  CHECK(wrong.error().message() ==
        "unpacking layer " + blob->digest.str() + ": diff ID mismatch: the image config says " +
            Digest::of("x").str() + ", the tar hashes to " + blob->diff_id.str());
  CHECK(!t.store.has_layer(Digest::of("x")));
  CHECK(list(t.store.tmp_dir()).empty());

  auto stage = *t.store.make_staging_dir("adopt");
  REQUIRE(fs::write_file_atomic(stage.path() + "/f", "x"));
  CHECK(*t.store.adopt_layer_dir(stage.path(), Digest::of("adopted")) ==
        t.store.layer_path(Digest::of("adopted")));
  stage.release();
  CHECK(*fs::read_file(t.store.layer_path(Digest::of("adopted")) + "/f") == "x");
  CHECK(t.store.adopt_layer_dir("/etc", Digest::of("y")).error().message() ==
        "adopting layer " + Digest::of("y").str() + ": /etc is not under " + t.store.tmp_dir());
}
