// image/remote_blobs.h: where a blob the store lacks can be fetched, and commit_image accepting
// an image whose layers are left on a registry.
#include <catch2/catch.hpp>

#include "base/fs.h"
#include "image/image_config.h"
#include "image/remote_blobs.h"
#include "image/store.h"

using namespace imgbuild;
using namespace imgbuild::image;

TEST_CASE("remote blob records keep the most recent source first", "[remote_blobs]") {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-remote-test-");
  Store store = *Store::open(fs::join(dir.path(), "root"));
  Descriptor blob{"application/vnd.oci.image.layer.v1.tar+gzip", Digest::of("gz"), 2};
  Digest diff_id = Digest::of("tar");
  CHECK_FALSE(find_remote_blob(store, blob.digest));
  REQUIRE(record_remote_blob(store, blob, diff_id, {"localhost:5000", "app"}));
  REQUIRE(record_remote_blob(store, blob, diff_id, {"localhost:5000", "cache"}));
  REQUIRE(record_remote_blob(store, blob, diff_id, {"localhost:5000", "app"}));
  auto found = find_remote_blob(store, blob.digest);
  REQUIRE(found);
  CHECK(found->blob == blob);
  CHECK(found->diff_id == diff_id);
  REQUIRE(found->sources.size() == 2);
  CHECK(found->sources[0].repository == "app");
  CHECK(found->sources[1].repository == "cache");

  // An unreadable record is no hint at all.
  REQUIRE(fs::write_file_atomic(
      fs::join(remote_blobs_dir(store), std::string(blob.digest.hex()) + ".json"), "{"));
  CHECK_FALSE(find_remote_blob(store, blob.digest));
  REQUIRE(record_remote_blob(store, blob, diff_id, {"localhost:5000", "app"}));
  REQUIRE(forget_remote_blob(store, blob.digest));
  CHECK_FALSE(find_remote_blob(store, blob.digest));
  CHECK(forget_remote_blob(store, blob.digest));  // already gone: fine
}

TEST_CASE("an image may reference a layer left on a registry, not an unknown one",
          "[remote_blobs]") {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-remote-test-");
  Store store = *Store::open(fs::join(dir.path(), "root"));
  Descriptor blob{"application/vnd.oci.image.layer.v1.tar+gzip", Digest::of("gz"), 2};
  ImageConfig config;
  config.os = "linux";
  config.architecture = "amd64";
  config.diff_ids = {Digest::of("tar")};
  auto refused = store.commit_image(config, {blob});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind() == ErrorKind::kNotFound);
  REQUIRE(record_remote_blob(store, blob, config.diff_ids[0], {"localhost:5000", "app"}));
  auto committed = store.commit_image(config, {blob});
  REQUIRE(committed);
  auto image = store.load_image(committed->manifest_digest);
  REQUIRE(image);
  CHECK(image->manifest.layers[0] == blob);
  // Nothing to collect, nothing broken: prune keeps the image and its remote layer reference.
  REQUIRE(store.prune(PruneMode::kUnreferenced));
  CHECK(store.load_image(committed->manifest_digest));
}
