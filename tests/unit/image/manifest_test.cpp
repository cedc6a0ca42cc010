#include <catch2/catch.hpp>
#include <string>

#include "image/image_config.h"
#include "image/index.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/platform.h"

using namespace imgbuild::image;

namespace {
const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');
}  // namespace

TEST_CASE("docker schema2 manifest is read with OCI media types") {
  std::string doc = R"({"schemaVersion":2,
    "mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":")" +
                    kA + R"("},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":32654,"digest":")" +
                    kB + R"("},
              {"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":5,"digest":")" +
                    kC + R"(","urls":["https://example.com/x"]}]})";
  auto m = Manifest::parse(doc);
  REQUIRE(m);
  CHECK(m->media_type == media_types::kDockerManifest);
  CHECK(m->config.media_type == media_types::kOciConfig);
  CHECK(m->config.size == 7023);
  REQUIRE(m->layers.size() == 2);
  CHECK(m->layers[0].media_type == media_types::kOciLayerGzip);
  CHECK(m->layers[1].media_type == media_types::kOciLayerNondistributableGzip);
  CHECK(m->layers[1].urls == std::vector<std::string>{"https://example.com/x"});
  CHECK(total_layer_size(*m) == 32659);
}

TEST_CASE("manifest serialisation is deterministic and exact") {
  Manifest m;
  m.media_type = std::string(media_types::kOciManifest);
  m.config = Descriptor{
      .media_type = std::string(media_types::kOciConfig), .digest = *Digest::parse(kA), .size = 10};
  m.layers.push_back(Descriptor{.media_type = std::string(media_types::kOciLayerGzip),
                                .digest = *Digest::parse(kB),
                                .size = 20});
  std::string expected =
      R"({"config":{"digest":")" + kA +
      R"(","mediaType":"application/vnd.oci.image.config.v1+json","size":10},"layers":[{"digest":")" +
      kB +
      R"(","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":20}],"mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2})";
  CHECK(m.serialize() == expected);
  auto again = Manifest::parse(m.serialize());
  REQUIRE(again);
  CHECK(again->serialize() == expected);
}

TEST_CASE("manifest parse names what is wrong") {
  CHECK(Manifest::parse("not json").error().message() == "manifest: invalid JSON");
  CHECK(Manifest::parse("[]").error().message() == "manifest: expected a JSON object");
  CHECK(Manifest::parse(R"({"schemaVersion":2,"layers":[]})").error().message() ==
        "manifest: missing \"config\"");
  CHECK(Manifest::parse(R"({"schemaVersion":1,"name":"x"})").error().message() ==
        "manifest: Docker schema 1 manifests are not supported (re-push the image with a current "
        "client)");
  CHECK(Manifest::parse(R"({"schemaVersion":2,"config":{"digest":"sha256:12","size":1}})")
            .error()
            .message() ==
        "manifest: config: descriptor: invalid digest \"sha256:12\": sha256 needs 64 lowercase hex "
        "characters");
  CHECK(Manifest::parse(R"({"schemaVersion":2,"config":{"digest":")" + kA +
                        R"(","size":1},"layers":[{"digest":")" + kB + R"("}]})")
            .error()
            .message() == "manifest: layers[0]: descriptor: missing \"size\"");
  auto idx = Manifest::parse(R"({"schemaVersion":2,"manifests":[]})");
  CHECK(idx.error().kind() == imgbuild::ErrorKind::kUnsupported);
}

TEST_CASE("docker manifest list is read as an index and selects a platform") {
  std::string doc = R"({"schemaVersion":2,
    "mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests":[
      {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":1,"digest":")" +
                    kA + R"(","platform":{"architecture":"amd64","os":"linux"}},
      {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":1,"digest":")" +
                    kB + R"(","platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]})";
  auto idx = Index::parse(doc);
  REQUIRE(idx);
  CHECK(idx->media_type == media_types::kDockerManifestList);
  CHECK(idx->manifests[0].media_type == media_types::kOciManifest);
  CHECK(idx->select(*Platform::parse("linux/arm64"))->digest.str() == kB);
  CHECK(idx->select(*Platform::parse("linux/amd64"))->digest.str() == kA);
  CHECK(idx->select(*Platform::parse("linux/s390x")).error().message() ==
        "no manifest for platform linux/s390x (index has linux/amd64, linux/arm64/v8)");
}

TEST_CASE("platform parsing normalises architecture names") {
  CHECK(Platform::parse("linux/amd64")->str() == "linux/amd64");
  CHECK(Platform::parse("linux/x86_64")->str() == "linux/amd64");
  CHECK(Platform::parse("linux/arm64/v8")->str() == "linux/arm64");
  CHECK(Platform::parse("linux/armhf")->str() == "linux/arm/v7");
  CHECK(Platform::parse("linux/arm/v6")->str() == "linux/arm/v6");
  CHECK(Platform::parse("linux").error().message() ==
        "invalid platform \"linux\": expected os/arch[/variant]");
  CHECK(Platform::parse("linux//v7").error().message() ==
        "invalid platform \"linux//v7\": empty or malformed component");
  CHECK(Platform::host().os == "linux");
  CHECK(!Platform::host().architecture.empty());
}

TEST_CASE("image config keeps unknown fields and serialises deterministically") {
  std::string doc = R"({"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05.5Z",
    "docker_version":"24.0.7","config":{"Env":["PATH=/bin","A=1"],"Cmd":["sh"],"Hostname":"x",
    "ExposedPorts":{"80/tcp":{}},"Labels":{"k":"v"},"Healthcheck":{"Test":["CMD","true"]},
    "Entrypoint":null},"rootfs":{"type":"layers","diff_ids":[")" +
                    kA + R"("]},"history":[{"created_by":"ADD x","weird":1},
    {"created_by":"CMD sh","empty_layer":true}]})";
  auto c = ImageConfig::parse(doc);
  REQUIRE(c);
  CHECK(c->config.env_value("A") == "1");
  CHECK(!c->config.env_value("B"));
  CHECK(c->config.cmd == std::vector<std::string>{"sh"});
  CHECK(!c->config.entrypoint);
  CHECK(c->config.exposed_ports == std::set<std::string>{"80/tcp"});
  CHECK(c->diff_ids.size() == 1);
  CHECK(c->non_empty_history_count() == 1);
  CHECK(c->extra["docker_version"] == "24.0.7");
  CHECK(c->config.extra["Hostname"] == "x");
  std::string expected =
      R"({"architecture":"amd64","config":{"Cmd":["sh"],"Env":["PATH=/bin","A=1"],"ExposedPorts":{"80/tcp":{}},"Healthcheck":{"Test":["CMD","true"]},"Hostname":"x","Labels":{"k":"v"}},"created":"2024-01-02T03:04:05.5Z","docker_version":"24.0.7","history":[{"created_by":"ADD x","weird":1},{"created_by":"CMD sh","empty_layer":true}],"os":"linux","rootfs":{"diff_ids":[")" +
      kA + R"("],"type":"layers"}})";
  CHECK(c->serialize() == expected);
  CHECK(ImageConfig::parse(c->serialize())->serialize() == expected);
  c->config.set_env("A", "2");
  CHECK(c->config.env == std::vector<std::string>{"PATH=/bin", "A=2"});
}

TEST_CASE("image config errors name the field") {
  CHECK(ImageConfig::parse(R"({"os":5})").error().message() ==
        "image config: \"os\" must be a string");
  CHECK(ImageConfig::parse(R"({"config":{"Env":"x"}})").error().message() ==
        "image config: config: \"Env\" must be an array of strings");
  CHECK(ImageConfig::parse(R"({"rootfs":{"diff_ids":["sha256:zz"]}})").error().message() ==
        "image config: rootfs.diff_ids[0]: invalid digest \"sha256:zz\": sha256 needs 64 "
        "lowercase hex characters");
}

TEST_CASE("rfc3339 timestamps round trip") {
  CHECK(rfc3339_utc(1700000000) == "2023-11-14T22:13:20Z");
  CHECK(parse_rfc3339("2023-11-14T22:13:20Z") == 1700000000);
  CHECK(parse_rfc3339("2023-11-14T22:13:20.123456789Z") == 1700000000);
  CHECK(parse_rfc3339("2023-11-15T00:13:20+02:00") == 1700000000);
  CHECK(!parse_rfc3339("yesterday"));
}
