// Stage resolution: bases, --from references, --target pruning, parallel waves, errors.
#include <catch2/catch.hpp>

#include "builder/dockerfile/build_plan.h"
#include "builder/dockerfile/parser.h"

namespace df = imgbuild::builder::dockerfile;

namespace {

imgbuild::Result<df::BuildPlan> try_plan(std::string_view text, std::string target = "",
                                         std::map<std::string, std::string> args = {}) {
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  if (!parsed) return std::unexpected(parsed.error());
  df::PlanOptions options;
  options.target = std::move(target);
  options.build_args = std::move(args);
  return df::make_build_plan(*parsed, options);
}

df::BuildPlan plan(std::string_view text, std::string target = "",
                   std::map<std::string, std::string> args = {}) {
  auto p = try_plan(text, std::move(target), std::move(args));
  if (!p) FAIL(p.error().message());
  return std::move(*p);
}

std::vector<std::string> names(const df::BuildPlan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.stages) out.push_back(s.display_name());
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("plan resolves scratch, image and stage bases") {
  df::BuildPlan p = plan("FROM scratch AS s\nFROM Alpine:3 AS img\nFROM S\nRUN true\n");
  REQUIRE(p.stages.size() == 2);  // the image stage is not needed by the last stage
  CHECK(p.stages[0].base.kind == df::StageBase::Kind::kScratch);
  CHECK(p.stages[1].base.kind == df::StageBase::Kind::kStage);
  CHECK(p.stages[1].base.stage == 0);
  CHECK(p.stages[1].deps == std::vector<size_t>{0});
  df::BuildPlan q = plan("FROM Alpine:3 AS img\n");
  CHECK(q.stages[0].base.kind == df::StageBase::Kind::kImage);
  CHECK(q.stages[0].base.image == "Alpine:3");
}

TEST_CASE("plan keeps only the stages the target needs") {
  std::string text =
      "FROM a AS base\n"
      "FROM base AS test\nRUN exit 1\n"
      "FROM b AS assets\n"
      "FROM base AS final\nCOPY --from=assets /x /y\n";
  CHECK(names(plan(text)) == V{"base", "assets", "final"});
  CHECK(names(plan(text, "test")) == V{"base", "test"});
  CHECK(names(plan(text, "ASSETS")) == V{"assets"});
}

TEST_CASE("plan marks independent stages as parallel waves") {
  df::BuildPlan p = plan(
      "FROM a AS one\nFROM b AS two\nFROM one AS three\n"
      "FROM c\nCOPY --from=two /a /a\nCOPY --from=three /b /b\nRUN --mount=from=one,target=/m x\n");
  REQUIRE(p.stages.size() == 4);
  REQUIRE(p.waves.size() == 3);
  CHECK(p.waves[0] == std::vector<size_t>{0, 1});
  CHECK(p.waves[1] == std::vector<size_t>{2});
  CHECK(p.waves[2] == std::vector<size_t>{3});
  CHECK(p.target == 3);
  CHECK(p.stages[3].deps == std::vector<size_t>{1, 2, 0});
}

TEST_CASE("plan resolves COPY --from by name, index, global ARG or image") {
  df::BuildPlan p = plan(
      "ARG SRC=one\nFROM a AS one\nFROM b\nCOPY --from=0 /a /a\nCOPY --from=$SRC /b /b\n"
      "COPY --from=busybox:1 /bin/sh /sh\n");
  const auto& refs = p.stages.back().copy_from;
  REQUIRE(refs.size() == 3);
  CHECK(refs[0].stage == std::optional<size_t>(0));
  CHECK(refs[1].value == "one");
  CHECK(refs[1].stage == std::optional<size_t>(0));
  CHECK(refs[2].value == "busybox:1");
  CHECK_FALSE(refs[2].stage);
  CHECK(refs[2].instruction == 2);
}

TEST_CASE("plan errors name the file") {
  CHECK(try_plan("FROM a\nFROM b\n", "nope").error().message() ==
        "Dockerfile: target stage \"nope\" could not be found");
  CHECK(try_plan("FROM a\nCOPY --from=3 /a /a\n").error().message() ==
        "Dockerfile:2: invalid stage index 3");
  CHECK(try_plan("FROM a AS x\nCOPY --from=x /a /a\n").error().message() ==
        "Dockerfile: circular dependency detected on stage: x");
  CHECK(try_plan("FROM a AS x\nFROM b AS X\n").error().message() ==
        "Dockerfile:2: duplicate stage name \"x\"");
  CHECK(try_plan("ARG B\nFROM $B\n").error().message() ==
        "Dockerfile:2: base name ($B) should not be blank");
  CHECK(try_plan("FROM ${B:?required}\n").error().message() ==
        "Dockerfile:1: failed to process \"${B:?required}\": B: required");
  CHECK(try_plan("FROM ${B:?not set} AS x\n").error().message() ==
        "Dockerfile:1: FROM requires either one or three arguments");
}

TEST_CASE("plan never looks at stages the target does not need") {
  // The broken stage would fail to expand, but it is not needed.
  df::BuildPlan p = plan("FROM a AS broken\nWORKDIR ${X:?}\nFROM b AS ok\nRUN true\n", "ok");
  auto stages = df::expand_stages(p);
  REQUIRE(stages);
  CHECK(stages->size() == 1);
}
