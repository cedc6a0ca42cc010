#include <catch2/catch.hpp>

#include "builder/cache_spec.h"

using imgbuild::builder::parse_cache_spec;

TEST_CASE("--cache-to and --cache-from values", "[cache_spec]") {
  auto to = parse_cache_spec("type=local,dest=/c,mode=max", "--cache-to");
  REQUIRE(to);
  CHECK(to->type == "local");
  CHECK(to->path == "/c");
  CHECK(to->max);
  auto from = parse_cache_spec("type=local,src=/c", "--cache-from");
  REQUIRE(from);
  CHECK(from->path == "/c");
  CHECK_FALSE(from->max);
  auto bare = parse_cache_spec("localhost:5000/app:cache", "--cache-from");
  REQUIRE(bare);
  CHECK(bare->type == "registry");
  CHECK(bare->ref == "localhost:5000/app:cache");
}

TEST_CASE("bad cache values name the problem", "[cache_spec]") {
  CHECK_FALSE(parse_cache_spec("type=local", "--cache-to"));
  CHECK_FALSE(parse_cache_spec("type=local,src=/c", "--cache-to"));  // src= is --cache-from's
  CHECK_FALSE(parse_cache_spec("dest=/c", "--cache-to"));
  auto mode = parse_cache_spec("type=local,dest=/c,mode=all", "--cache-to");
  REQUIRE_FALSE(mode);
  CHECK(mode.error().message().find("mode=all") != std::string::npos);
  CHECK_FALSE(parse_cache_spec("", "--cache-from"));
}

TEST_CASE("registry and inline cache values", "[cache_spec]") {
  auto reg = parse_cache_spec(
      "type=registry,ref=localhost:5000/app:cache,mode=max,compression=zstd", "--cache-to");
  REQUIRE(reg);
  CHECK(reg->type == "registry");
  CHECK(reg->ref == "localhost:5000/app:cache");
  CHECK(reg->max);
  REQUIRE(reg->compression);
  CHECK(*reg->compression == imgbuild::image::Compression::kZstd);
  CHECK_FALSE(parse_cache_spec("type=registry,mode=max", "--cache-to"));  // ref= is required
  CHECK_FALSE(parse_cache_spec("type=registry,ref=r,compression=lz4", "--cache-to"));
  auto in = parse_cache_spec("type=inline", "--cache-to");
  REQUIRE(in);
  CHECK(in->type == "inline");
  CHECK_FALSE(in->compression);
}
