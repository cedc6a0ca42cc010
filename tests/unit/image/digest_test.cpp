#include <catch2/catch.hpp>

#include "image/digest.h"

using imgbuild::image::Digest;

TEST_CASE("digest parse accepts sha256 and rejects malformed digests") {
  auto d = Digest::parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  REQUIRE(d);
  CHECK(*d == Digest::of(""));
  CHECK(d->short_hex() == "e3b0c44298fc");

  CHECK(Digest::parse("e3b0c442").error().message() ==
        "invalid digest \"e3b0c442\": missing algorithm prefix");
  CHECK(Digest::parse("md5:abc").error().message() ==
        "invalid digest \"md5:abc\": unsupported algorithm \"md5\" (only sha256)");
  CHECK(Digest::parse("sha256:ABC").error().message() ==
        "invalid digest \"sha256:ABC\": sha256 needs 64 lowercase hex characters");
}
