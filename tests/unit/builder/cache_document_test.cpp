// The build cache's OCI artifact (builder/cache_document.h) and its inline form in an image
// config (builder/cache_inline.h): what one store writes, another reads back exactly.
#include <catch2/catch.hpp>

#include "builder/cache_document.h"
#include "builder/cache_inline.h"
#include "image/digest.h"

using namespace imgbuild;
using namespace imgbuild::builder;

namespace {

CacheRecord layer_record(char k, const std::string& content) {
  CacheRecord r;
  r.key = std::string(64, k);
  r.created = "2023-11-14T22:13:20Z";
  r.diff_id = image::Digest::of("tar " + content);
  r.blob = {"application/vnd.oci.image.layer.v1.tar+gzip", image::Digest::of("gz " + content), 42};
  return r;
}

CacheRecord empty_record(char k) {
  CacheRecord r;
  r.key = std::string(64, k);
  r.empty_layer = true;
  r.created = "2023-11-14T22:13:20Z";
  return r;
}

}  // namespace

TEST_CASE("a cache artifact reads back as the records it was made of", "[cache_document]") {
  // Two records share a layer: it is listed once.
  auto a = layer_record('a', "one");
  auto b = layer_record('b', "one");
  auto c = empty_record('c');
  CacheArtifact artifact = make_cache_artifact({c, b, a, a});
  CHECK(artifact.layers.size() == 1);
  CHECK(artifact.manifest_descriptor.digest == image::Digest::of(artifact.manifest));
  CHECK(artifact.manifest_descriptor.artifact_type == kCacheArtifactType);
  // Order of the input does not change the digests.
  CHECK(make_cache_artifact({a, b, c}).manifest == artifact.manifest);

  auto config = cache_config_descriptor(artifact.manifest, "test");
  REQUIRE(config);
  CHECK(config->digest == image::Digest::of(artifact.config));
  auto parsed = parse_cache_config(artifact.config, "test");
  REQUIRE(parsed);
  CHECK(parsed->problems.empty());
  REQUIRE(parsed->records.size() == 3);
  CHECK(parsed->records[0].key == a.key);
  CHECK(parsed->records[0].diff_id == a.diff_id);
  CHECK(parsed->records[0].blob == a.blob);
  CHECK(parsed->records[2].empty_layer);
}

TEST_CASE("an image manifest is not a cache, and bad records are skipped", "[cache_document]") {
  std::string image_manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":)"
      R"("sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},)"
      R"("layers":[]})";
  auto not_cache = cache_config_descriptor(image_manifest, "localhost:5000/app:1");
  REQUIRE_FALSE(not_cache);
  CHECK(not_cache.error().kind() == ErrorKind::kInvalidArgument);
  CHECK(not_cache.error().message().find("not an imgbuild cache") != std::string::npos);
  CHECK_FALSE(cache_config_descriptor("not json", "x"));

  auto parsed = parse_cache_config(R"({"records":[{"key":"../../etc/passwd"},{"key":")" +
                                       std::string(64, 'd') + R"(","diff_id":"md5:1","blob":{}}]})",
                                   "x");
  REQUIRE(parsed);
  CHECK(parsed->records.empty());
  CHECK(parsed->problems.size() == 2);
  CHECK_FALSE(parse_cache_config(R"({"nothing":1})", "x"));
}

TEST_CASE("inline records name their layers by position in the image", "[cache_inline]") {
  auto a = layer_record('a', "one");
  auto b = layer_record('b', "two");
  auto c = empty_record('c');
  std::vector<image::Digest> diff_ids = {image::Digest::of("base"), a.diff_id, b.diff_id};
  nlohmann::json value = make_inline_cache({b, c, a}, diff_ids);
  nlohmann::json config = {{"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}},
                           {std::string(kInlineCacheKey), value}};
  for (const auto& d : diff_ids) config["rootfs"]["diff_ids"].push_back(d.str());
  // The pushed image's blobs (compressed) are what the records get back.
  std::vector<image::Descriptor> layers = {
      {"application/vnd.oci.image.layer.v1.tar+gzip", image::Digest::of("gz base"), 1},
      a.blob,
      b.blob};
  auto parsed = parse_inline_cache(config, layers, "app:1");
  REQUIRE(parsed);
  REQUIRE(parsed->records.size() == 3);
  CHECK(parsed->records[0].key == a.key);
  CHECK(parsed->records[0].blob == a.blob);
  CHECK(parsed->records[1].diff_id == b.diff_id);
  CHECK(parsed->records[2].empty_layer);

  // A layer index out of range is skipped, not trusted.
  config[std::string(kInlineCacheKey)]["records"][0]["layer"] = 7;
  auto partly = parse_inline_cache(config, layers, "app:1");
  REQUIRE(partly);
  CHECK(partly->records.size() == 2);
  CHECK(partly->problems.size() == 1);

  config.erase(std::string(kInlineCacheKey));
  auto none = parse_inline_cache(config, layers, "app:1");
  REQUIRE_FALSE(none);
  CHECK(none.error().message().find("not an imgbuild cache") != std::string::npos);
}
