#include <catch2/catch.hpp>
#include <string>

#include "image/reference.h"

using imgbuild::image::Reference;

namespace {
const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string full(std::string_view text) {
  auto r = Reference::parse(text);
  if (!r) return "ERROR: " + r.error().message();
  return r->str();
}
std::string error_of(std::string_view text) {
  auto r = Reference::parse(text);
  if (r) return "OK: " + r->str();
  return r.error().message();
}
}  // namespace

TEST_CASE("reference normalisation follows Docker's table") {
  CHECK(full("app") == "docker.io/library/app:latest");
  CHECK(full("debian") == "docker.io/library/debian:latest");
  CHECK(full("library/debian") == "docker.io/library/debian:latest");
  CHECK(full("docker/docker") == "docker.io/docker/docker:latest");
  CHECK(full("docker.io/debian") == "docker.io/library/debian:latest");
  CHECK(full("docker.io/library/debian") == "docker.io/library/debian:latest");
  CHECK(full("docker.io/docker/docker") == "docker.io/docker/docker:latest");
  CHECK(full("index.docker.io/debian") == "docker.io/library/debian:latest");
  CHECK(full("index.docker.io/docker/docker") == "docker.io/docker/docker:latest");
  CHECK(full("localhost/debian") == "localhost/debian:latest");
  CHECK(full("localhost/library/debian") == "localhost/library/debian:latest");
  CHECK(full("localhost:5000/ns/app:1.2") == "localhost:5000/ns/app:1.2");
  CHECK(full("registry.com:8080/debian") == "registry.com:8080/debian:latest");
  CHECK(full("127.0.0.1:5000/debian:v1") == "127.0.0.1:5000/debian:v1");
  CHECK(full("[::1]:5000/app") == "[::1]:5000/app:latest");
  CHECK(full("foo_bar.com:8080") == "docker.io/library/foo_bar.com:8080");
  CHECK(full("foo/foo_bar.com:8080") == "docker.io/foo/foo_bar.com:8080");
  CHECK(full("localhost:5000") == "docker.io/library/localhost:5000");
  CHECK(full("a/b/c/d:Tag_1.0-x") == "docker.io/a/b/c/d:Tag_1.0-x");
  CHECK(full("app-1__x.y---z") == "docker.io/library/app-1__x.y---z:latest");
}

TEST_CASE("reference keeps tag and digest together and adds no default tag to a digest") {
  auto r = Reference::parse("localhost:5000/ns/app:1.2@sha256:" + kHex);
  REQUIRE(r);
  CHECK(r->registry == "localhost:5000");
  CHECK(r->repository == "ns/app");
  CHECK(r->tag == "1.2");
  REQUIRE(r->digest);
  CHECK(r->digest->str() == "sha256:" + kHex);
  CHECK(r->str() == "localhost:5000/ns/app:1.2@sha256:" + kHex);

  auto d = Reference::parse("app@sha256:" + kHex);
  REQUIRE(d);
  CHECK(d->tag.empty());
  CHECK(d->str() == "docker.io/library/app@sha256:" + kHex);
  CHECK(d->familiar() == "app@sha256:" + kHex);
}

TEST_CASE("reference familiar form is what docker prints") {
  CHECK(Reference::parse("app")->familiar() == "app:latest");
  CHECK(Reference::parse("docker.io/library/app:2")->familiar() == "app:2");
  CHECK(Reference::parse("user/app:1")->familiar() == "user/app:1");
  CHECK(Reference::parse("localhost:5000/app:1")->familiar() == "localhost:5000/app:1");
  CHECK(Reference::parse("localhost/library/app")->familiar() == "localhost/library/app:latest");
  CHECK(Reference::parse("library/a/b")->familiar_name() == "library/a/b");
  CHECK(Reference::parse("app:1")->with_tag("2").str() == "docker.io/library/app:2");
}

TEST_CASE("reference rejects invalid input saying what is wrong") {
  CHECK(error_of("") == "invalid reference \"\": empty reference");
  CHECK(error_of("Foo") == "invalid reference \"Foo\": repository name must be lowercase");
  CHECK(error_of("docker.io/App") ==
        "invalid reference \"docker.io/App\": repository name must be lowercase");
  CHECK(error_of("app:") == "invalid reference \"app:\": empty tag after \":\"");
  CHECK(error_of("app:-x") ==
        "invalid reference \"app:-x\": invalid tag \"-x\" (allowed: [A-Za-z0-9_] then "
        "[A-Za-z0-9_.-])");
  CHECK(error_of("app:a+b") ==
        "invalid reference \"app:a+b\": invalid tag \"a+b\" (allowed: [A-Za-z0-9_] then "
        "[A-Za-z0-9_.-])");
  std::string long_tag(129, 'a');
  CHECK(error_of("app:" + long_tag) ==
        "invalid reference \"app:" + long_tag + "\": tag is longer than 128 characters");
  std::string long_name(250, 'a');
  CHECK(error_of(long_name) == "invalid reference \"" + long_name +
                                   "\": repository name must not be more than 255 characters");
  CHECK(error_of("app@sha256:abc") ==
        "invalid reference \"app@sha256:abc\": invalid digest \"sha256:abc\": sha256 needs 64 "
        "lowercase hex characters");
  CHECK(error_of("app@md5:abc") ==
        "invalid reference \"app@md5:abc\": invalid digest \"md5:abc\": unsupported algorithm "
        "\"md5\" (only sha256)");
  CHECK(error_of(kHex) == "invalid reference \"" + kHex +
                              "\": a 64-character hexadecimal string is an image ID, not a "
                              "repository name");
  CHECK(error_of("a//b") ==
        "invalid reference \"a//b\": empty path component (\"//\", or a "
        "leading or trailing \"/\")");
  CHECK(error_of("app/") ==
        "invalid reference \"app/\": empty path component (\"//\", or a "
        "leading or trailing \"/\")");
  CHECK(error_of("-app") ==
        "invalid reference \"-app\": path component \"-app\" must start and end with [a-z0-9]");
  CHECK(error_of("a..b") ==
        "invalid reference \"a..b\": invalid separator \"..\" in \"a..b\" "
        "(allowed: [a-z0-9] joined by '.', '_', '__' or '-')");
  CHECK(error_of("a___b") ==
        "invalid reference \"a___b\": invalid separator \"___\" in \"a___b\" "
        "(allowed: [a-z0-9] joined by '.', '_', '__' or '-')");
  CHECK(error_of("bad_host.-x:5000/app") ==
        "invalid reference \"bad_host.-x:5000/app\": invalid registry host \"bad_host.-x:5000\"");
  CHECK(error_of("localhost:5000/") ==
        "invalid reference \"localhost:5000/\": missing repository name after the registry");
  CHECK(error_of("my app") ==
        "invalid reference \"my app\": contains whitespace or control characters");
  CHECK(error_of("@sha256:" + kHex) ==
        "invalid reference \"@sha256:" + kHex + "\": missing repository name before \"@\"");
  CHECK(error_of(":tag") == "invalid reference \":tag\": missing repository name");
}
