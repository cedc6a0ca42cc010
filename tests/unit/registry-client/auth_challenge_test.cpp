#include <catch2/catch.hpp>

#include "registry-client/auth_challenge.h"

using imgbuild::registry::parse_auth_challenges;

TEST_CASE("auth challenge parser reads a bearer challenge with quoted parameters") {
  auto r = parse_auth_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].scheme == "bearer");
  CHECK((*r)[0].param("realm") == "https://auth.docker.io/token");
  CHECK((*r)[0].param("service") == "registry.docker.io");
  CHECK((*r)[0].param("scope") == "repository:library/alpine:pull");
  CHECK((*r)[0].param("missing").empty());
}

TEST_CASE("auth challenge parser splits several challenges and handles escapes and tokens") {
  auto r = parse_auth_challenges(
      R"(Basic realm="Registry \"Realm\"", Bearer realm=https://a/t,error="insufficient_scope",scope="repository:a:pull,push")");
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].scheme == "basic");
  CHECK((*r)[0].param("realm") == "Registry \"Realm\"");
  CHECK((*r)[1].scheme == "bearer");
  CHECK((*r)[1].param("realm") == "https://a/t");
  CHECK((*r)[1].param("error") == "insufficient_scope");
  CHECK((*r)[1].param("scope") == "repository:a:pull,push");
}

TEST_CASE("auth challenge parser lowercases scheme and parameter names") {
  auto r = parse_auth_challenges(R"(BASIC Realm="x")");
  REQUIRE(r);
  CHECK((*r)[0].scheme == "basic");
  CHECK((*r)[0].param("realm") == "x");
}

TEST_CASE("auth challenge parser rejects an unterminated quoted string") {
  auto r = parse_auth_challenges(R"(Bearer realm="https://a)");
  REQUIRE(!r);
  CHECK(r.error().message() ==
        "WWW-Authenticate \"Bearer realm=\"https://a\": unterminated quoted string at offset 23");
}
