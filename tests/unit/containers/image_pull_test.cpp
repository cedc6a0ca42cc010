#include "containers/image_pull.h"

#include <catch2/catch.hpp>

namespace imgbuild::containers {

TEST_CASE("parse_pull_policy takes Docker's three values", "[unit]") {
  CHECK(parse_pull_policy("missing") == PullPolicy::kMissing);
  CHECK(parse_pull_policy("always") == PullPolicy::kAlways);
  CHECK(parse_pull_policy("never") == PullPolicy::kNever);
  auto bad = parse_pull_policy("sometimes");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() ==
        "invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or \"never\"");
}

}  // namespace imgbuild::containers
