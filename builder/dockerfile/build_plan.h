// The resolved build plan: which stages the target needs, what each is based on, how they
// depend on each other and which may run in parallel. The input of the build engine and of
// `imgbuild parse`.
//
// make_build_plan() parses nothing itself: it takes a ParsedDockerfile, types its instructions
// (instructions.h), resolves the global ARG scope (stage_scope.h), expands every FROM (base name,
// --platform) with the global args, resolves `FROM <earlier stage>`, `COPY --from=<name|index>`
// and `RUN --mount=...,from=<name|index>` to stage dependencies (anything else in --from is an
// image reference), then keeps only the stages reachable from the target (`--target`, else the
// last stage): a stage that is not needed is never listed, so it can never run or fail.
// Instructions stay unexpanded: the engine expands each one when it dispatches it, through a
// StageScope seeded with the base image's environment (see stage_scope.h); expand_stages() does
// the same with empty image environments, for listings.
//
// Errors (kParse or kNotFound), all naming the file:
//   "Dockerfile: target stage \"x\" could not be found"
//   "Dockerfile:5: base name (${NOPE}) should not be blank"
//   "Dockerfile:9: invalid stage index 7"  /  "circular dependency detected on stage: a"
// Warnings: "[Warning] One or more build-args [FOO] were not consumed" (sorted, comma-free).
// Plain values; thread-safe functions.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "builder/dockerfile/ast.h"
#include "builder/dockerfile/instructions.h"
#include "builder/dockerfile/stage_scope.h"

namespace imgbuild::builder::dockerfile {

struct PlanOptions {
  std::string target;                             // stage name; empty: the last stage
  std::map<std::string, std::string> build_args;  // --build-arg K=V
  PlatformArgs platform = host_platform();
};

struct StageBase {
  enum class Kind { kScratch, kStage, kImage };
  Kind kind = Kind::kScratch;
  std::string image;  // kImage: the reference after expansion (not normalised)
  size_t stage = 0;   // kStage: Dockerfile index of the parent stage
};

// Where a `COPY --from` / `RUN --mount from=` points, resolved at plan time.
struct FromRef {
  size_t instruction = 0;       // index into PlanStage::instructions
  std::string value;            // the --from value after expansion with the global args
  std::optional<size_t> stage;  // Dockerfile index when it names a stage; else an image ref
};

struct PlanStage {
  size_t index = 0;  // Dockerfile position (0-based)
  std::string name;  // lower-cased `AS` name; empty when unnamed
  StageBase base;
  std::string platform;                   // --platform after expansion; empty when not given
  Instruction from;                       // the FROM instruction (lines, original text)
  std::vector<Instruction> instructions;  // unexpanded, in order (FROM excluded)
  std::vector<FromRef> copy_from;         // every --from of this stage's COPY/ADD/RUN --mount
  std::vector<size_t> deps;  // Dockerfile indices of stages this one needs (base + --from)
  int wave = 0;              // stages of the same wave do not depend on each other

  std::string display_name() const;  // name, or the index as a string
};

struct BuildPlan {
  std::string filename;
  char escape = '\\';
  GlobalScope global;
  std::vector<PlanStage> stages;  // needed stages only, in Dockerfile order
  size_t target = 0;              // index into `stages` (always the last one listed)
  // waves[i]: positions in `stages` that may run in parallel once waves < i are done.
  std::vector<std::vector<size_t>> waves;
  std::vector<std::string> warnings;

  // nullptr when that Dockerfile stage is not part of the plan.
  const PlanStage* find(size_t dockerfile_index) const;
};

Result<BuildPlan> make_build_plan(const ParsedDockerfile& parsed, const PlanOptions& options);

// One stage, expanded by dispatching every instruction through a StageScope.
struct ExpandedStage {
  const PlanStage* stage = nullptr;
  std::vector<Instruction> instructions;
  EnvList env;  // final ENV (empty base image env assumed for image bases)
};

// Expands every planned stage in order, assuming images contribute no environment; a stage
// based on another stage starts from that stage's final env. For `imgbuild parse` and tests.
Result<std::vector<ExpandedStage>> expand_stages(const BuildPlan& plan);

}  // namespace imgbuild::builder::dockerfile
