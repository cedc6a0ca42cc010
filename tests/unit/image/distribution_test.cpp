// Built layers are uncompressed tar blobs; prepare_distribution compresses them once, records
// the variants in the store, and GC keeps variants only while their layer is live.
#include <catch2/catch.hpp>
#include <filesystem>

#include "base/fs.h"
#include "base/sys.h"
#include "image/compression_writer.h"
#include "image/distribution.h"
#include "image/layer_variants.h"
#include "image/layer_writer.h"
#include "image/media_types.h"
#include "image/store.h"

using namespace imgbuild;
using namespace imgbuild::image;

namespace {

struct TestStore {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-distribution-test-");
  Store store = *Store::open(fs::join(dir.path(), "root"));

  // Writes a small tree and commits it as an uncompressed layer, as a build step does.
  Descriptor tar_layer(std::string_view content, Digest& diff_id) {
    fs::TempDir tree = *store.make_staging_dir("tree");
    REQUIRE(fs::write_file_atomic(tree.path() + "/file", content));
    StagedFile file = *store.make_staging_file("layer");
    LayerWriteOptions options;
    options.compression = Compression::kNone;
    options.source_date_epoch = 0;
    auto blob = write_layer_from_dir(tree.path(), file.fd(), options);
    REQUIRE(blob);
    diff_id = blob->diff_id;
    REQUIRE(store.ingest_blob_file(file.release(), blob->digest, Verify::kTrustCaller));
    return Descriptor{.media_type = blob->media_type, .digest = blob->digest, .size = blob->size};
  }

  // An image of one built (tar) layer on top of a pulled-style gzip layer.
  Image image(std::string_view content) {
    Digest base_blob = *store.put_blob("not really gzip");
    Digest diff_id;
    Descriptor built = tar_layer(content, diff_id);
    ImageConfig config;
    config.architecture = "amd64";
    config.os = "linux";
    config.created = "2024-01-01T00:00:00Z";
    config.diff_ids = {Digest::of("base-diff"), diff_id};
    Descriptor base{
        .media_type = std::string(media_types::kOciLayerGzip), .digest = base_blob, .size = 15};
    auto committed = store.commit_image(config, {base, built});
    REQUIRE(committed);
    REQUIRE(store.tag(*Reference::parse("app:1"), committed->manifest_digest));
    return *store.resolve("app:1");
  }
};

size_t count_files(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

}  // namespace

TEST_CASE("an uncompressed layer's blob digest is its diff ID and nothing is compressed") {
  TestStore t;
  uint64_t before = compressed_bytes_produced();
  Digest diff_id;
  Descriptor blob = t.tar_layer("content", diff_id);
  CHECK(blob.digest == diff_id);
  CHECK(blob.media_type == media_types::kOciLayer);
  CHECK(compressed_bytes_produced() == before);
}

TEST_CASE("prepare_distribution compresses built layers once and keeps the image ID") {
  TestStore t;
  Image img = t.image("hello");
  uint64_t before = compressed_bytes_produced();
  auto out = prepare_distribution(t.store, img, {Compression::kGzip, 2});
  REQUIRE(out);
  CHECK(compressed_bytes_produced() > before);
  CHECK(out->config_digest == img.config_digest);
  CHECK(out->manifest_digest != img.manifest_digest);
  CHECK(out->manifest_media_type == media_types::kOciManifest);
  REQUIRE(out->manifest.layers.size() == 2);
  CHECK(out->manifest.layers[0] == img.manifest.layers[0]);  // already compressed: as it was
  CHECK(out->manifest.layers[1].media_type == media_types::kOciLayerGzip);
  CHECK(t.store.has_blob(out->manifest.layers[1].digest));
  CHECK(*t.store.read_blob(out->manifest_digest) == out->manifest.serialize());
  auto variant = find_layer_variant(t.store, img.config.diff_ids[1], Compression::kGzip);
  REQUIRE(variant);
  CHECK(*variant == out->manifest.layers[1]);
  CHECK_FALSE(find_layer_variant(t.store, img.config.diff_ids[1], Compression::kZstd));

  // The second time finds the variant: nothing is compressed, same manifest.
  uint64_t after_first = compressed_bytes_produced();
  auto again = prepare_distribution(t.store, img, {Compression::kGzip, 2});
  REQUIRE(again);
  CHECK(compressed_bytes_produced() == after_first);
  CHECK(again->manifest_digest == out->manifest_digest);

  // Another store with the same content makes the same blobs and manifest (deterministic).
  TestStore other;
  Image img2 = other.image("hello");
  auto out2 = prepare_distribution(other.store, img2, {Compression::kGzip, 1});
  REQUIRE(out2);
  CHECK(out2->manifest_digest == out->manifest_digest);

  auto zstd = prepare_distribution(t.store, img, {Compression::kZstd, 2});
  REQUIRE(zstd);
  CHECK(zstd->manifest.layers[1].media_type == media_types::kOciLayerZstd);
  CHECK(zstd->config_digest == img.config_digest);

  auto none = prepare_distribution(t.store, img, {Compression::kNone, 2});
  REQUIRE(none);
  CHECK(none->manifest_digest == img.manifest_digest);
}

TEST_CASE("prepare_distribution refuses a tar blob that does not hash to its diff ID") {
  TestStore t;
  Digest diff_id;
  Descriptor built = t.tar_layer("x", diff_id);
  ImageConfig config;
  config.architecture = "amd64";
  config.os = "linux";
  config.diff_ids = {Digest::of("something else")};
  auto committed = t.store.commit_image(config, {built});
  REQUIRE(committed);
  Image img = *t.store.load_image(committed->manifest_digest);
  auto out = prepare_distribution(t.store, img, {Compression::kGzip, 2});
  REQUIRE_FALSE(out);
  CHECK(out.error().kind() == ErrorKind::kCorrupt);
  CHECK(out.error().message().find("hashes to " + diff_id.str() + ", its image config says " +
                                   Digest::of("something else").str()) != std::string::npos);
}

TEST_CASE("prune keeps the variants of live layers and drops the others with their blobs") {
  TestStore t;
  Image img = t.image("hello");
  auto out = prepare_distribution(t.store, img, {Compression::kGzip, 2});
  REQUIRE(out);
  std::string variants = t.store.root() + "/variants/sha256";
  Digest compressed = out->manifest.layers[1].digest;

  REQUIRE(t.store.prune());
  CHECK(count_files(variants) == 1);
  CHECK(t.store.has_blob(compressed));
  CHECK(find_layer_variant(t.store, img.config.diff_ids[1], Compression::kGzip));

  REQUIRE(t.store.untag(*Reference::parse("app:1")));
  auto report = t.store.prune();
  REQUIRE(report);
  CHECK(count_files(variants) == 0);
  CHECK_FALSE(t.store.has_blob(compressed));
  CHECK_FALSE(find_layer_variant(t.store, img.config.diff_ids[1], Compression::kGzip));
}
