// Cache keys and the explanations `--progress plain` gives for misses.
#include <catch2/catch.hpp>

#include "builder/build_cache.h"

using namespace imgbuild::builder;

namespace {

KeyInputs base() {
  KeyInputs in;
  in.parent = "p";
  in.instruction = "COPY . /app";
  in.env = {{"A", "1"}};
  in.files = {{"x", "d1"}, {"y", "d2"}};
  return in;
}

}  // namespace

TEST_CASE("cache key depends on every input and nothing else") {
  KeyInputs a = base();
  CHECK(a.key() == base().key());
  KeyInputs b = base();
  b.files[1].digest = "other";
  CHECK(b.key() != a.key());
  KeyInputs c = base();
  c.parent = "q";
  CHECK(c.key() != a.key());
  // Field boundaries are unambiguous.
  KeyInputs d = base();
  d.instruction = "COPY . /ap";
  d.extra = "p";
  CHECK(d.key() != a.key());
}

TEST_CASE("cache key inputs round-trip through JSON") {
  auto back = KeyInputs::from_json(base().to_json());
  REQUIRE(back);
  CHECK(back->key() == base().key());
  CHECK(!KeyInputs::from_json(nlohmann::json::object()));
}

TEST_CASE("miss explanations name what changed") {
  KeyInputs now = base();
  CHECK(explain_miss(now, std::nullopt) == "no earlier build of this step");

  KeyInputs before = base();
  before.instruction = "COPY . /old";
  CHECK(explain_miss(now, before) == "instruction changed (was: COPY . /old)");

  before = base();
  before.env = {{"A", "0"}};
  CHECK(explain_miss(now, before) == "arg/env A changed (0 -> 1)");

  before = base();
  before.env = {};
  CHECK(explain_miss(now, before) == "arg/env A is new (A=1)");

  before = base();
  before.files = {{"x", "old"}, {"z", "d3"}};
  CHECK(explain_miss(now, before) == "file x changed, file y added, file z removed");

  before = base();
  before.parent = "other";
  CHECK(explain_miss(now, before) == "previous step changed");

  CHECK(explain_miss(now, base()) == "cache record missing (pruned?)");
}
