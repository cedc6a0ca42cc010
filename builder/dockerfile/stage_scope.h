// ARG/ENV scoping and dispatch-time expansion, exactly as Docker does it.
//
// GlobalScope holds what is visible in FROM lines: the automatic platform args (BUILDPLATFORM,
// BUILDOS, BUILDARCH, BUILDVARIANT, TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT) and
// the ARGs declared before the first FROM, each taking the --build-arg value when one was given,
// else its default expanded with the global args declared before it.
//
// StageScope is one stage's view while it is dispatched, instruction by instruction:
//   - global ARGs are NOT visible inside a stage unless redeclared there (`ARG NAME` without a
//     default then takes the --build-arg value, else the global value);
//   - `ARG NAME=default` takes the --build-arg value when given, else the expanded default;
//   - ENV (from the base image and from ENV instructions) overrides ARG of the same name;
//   - proxy args (HTTP_PROXY, https_proxy, NO_PROXY, ALL_PROXY, ...) given as --build-arg reach
//     RUN without being declared and are left out of history (history_args()).
// dispatch() expands an instruction the way Docker expands it before executing it: ENV/LABEL
// keys and values, ARG defaults, WORKDIR, USER, VOLUME, STOPSIGNAL, EXPOSE (split into words),
// COPY/ADD sources, destination, --chown, --chmod, --from, --checksum, --exclude and heredoc
// bodies with unquoted delimiters, RUN --mount values. RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK text
// and ONBUILD triggers are left untouched (the shell or a later build expands them). ARG and ENV
// then update the scope, so the next instruction sees them.
//
// The engine creates one StageScope per stage, seeded with the base image's Env (or, for
// `FROM <stage>`, the parent stage's final env()), and dispatches the stage's instructions in
// order; ONBUILD triggers of the base image are parsed with parse_instruction_line() and
// dispatched first. Not thread-safe; one scope per stage, owned by whoever runs the stage.
// A StageScope keeps a pointer to its GlobalScope (usually BuildPlan::global): the plan must
// outlive it.
//
// Every word a build expands (meta ARGs, FROM, stage instructions, ONBUILD triggers) is charged
// to one ExpansionBudget shared by the GlobalScope, its copies and every StageScope using it,
// so that many words together cannot build a huge image config (limits.h):
//   "Dockerfile:9: expanded words exceed 4 MiB in total"
//   "Dockerfile:9: expansions take more than 33554432 steps in total"
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/error.h"
#include "builder/dockerfile/instructions.h"
#include "builder/dockerfile/shell_lexer.h"

namespace imgbuild::builder::dockerfile {

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct PlatformArgs {
  std::string build_os = "linux", build_arch = "amd64", build_variant;
  std::string target_os = "linux", target_arch = "amd64", target_variant;
};

// Platform of the running machine ("linux", uname machine mapped to OCI: amd64, arm64, ...).
PlatformArgs host_platform();

// True for the proxy args Docker predefines (usable without ARG, kept out of history).
bool is_proxy_arg(std::string_view name);

// The build-wide totals of limits.h. Thread-safe: stages of one wave are dispatched at once.
class ExpansionBudget {
 public:
  // Adds one expanded word; kLimit (without location) once a total is exceeded.
  Status charge(uint64_t bytes, uint64_t steps);

 private:
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> steps_{0};
};

class GlobalScope {
 public:
  GlobalScope() = default;
  // Resolves the meta args in order. Errors name the ARG's line.
  static Result<GlobalScope> create(const std::vector<Instruction>& meta_arg_instructions,
                                    std::map<std::string, std::string> build_args,
                                    const PlatformArgs& platform, std::string_view filename,
                                    char escape);

  std::optional<std::string> lookup(std::string_view name) const;
  EnvLookup lookup_fn() const;
  const std::map<std::string, std::string>& build_args() const { return build_args_; }
  // Global args with a value, in declaration order (automatic platform args first).
  const EnvList& values() const { return values_; }
  // Names declared by ARG before the first FROM.
  const std::set<std::string>& declared() const { return declared_; }
  std::string_view filename() const { return filename_; }
  char escape() const { return escape_; }

  // Word expansion with the Dockerfile's escape character, charged to the build's budget.
  Result<Expansion> expand(std::string_view text, const EnvLookup& env,
                           LexOptions options = {}) const;
  // expand_word() over the global args (FROM lines, --from values), charged.
  Result<std::string> expand_word(std::string_view text) const;
  // Charges what is not a word but grows the config by as much (ARG values in RUN history).
  Status charge(uint64_t bytes) const { return budget_->charge(bytes, bytes); }

 private:
  std::map<std::string, std::string> build_args_;
  EnvList values_;
  std::set<std::string> declared_;
  std::string filename_ = "Dockerfile";
  char escape_ = '\\';
  std::shared_ptr<ExpansionBudget> budget_ = std::make_shared<ExpansionBudget>();
};

class StageScope {
 public:
  StageScope(const GlobalScope& global, EnvList base_env);

  // Expands `raw` (see above) and applies ARG/ENV to the scope. Errors name file and line.
  Result<Instruction> dispatch(const Instruction& raw);

  // ENV first, then the stage's ARG values.
  std::optional<std::string> lookup(std::string_view name) const;
  EnvLookup lookup_fn() const;

  // The image config Env: base env plus ENV instructions, in order, keys unique.
  const EnvList& env() const { return env_; }
  // Environment for RUN: env() plus ARG values not shadowed by ENV plus given proxy args.
  EnvList run_env() const;
  // Declared ARGs with values, excluding proxy args: the "|N K=V" prefix of RUN history.
  EnvList history_args() const;
  // Build args this stage declared (for the unused build-arg warning).
  const std::set<std::string>& consumed() const { return consumed_; }

 private:
  Status apply_arg(ArgInstr& arg, const Instruction& raw);
  void set_env(const std::string& key, const std::string& value);

  static void set_in(EnvList& list, std::unordered_map<std::string, size_t>& index,
                     const std::string& key, const std::string& value);

  const GlobalScope* global_;
  EnvList env_;
  EnvList args_;  // declared ARGs with a value, in order, keys unique
  // Key -> position in env_ / args_: stages inherit thousands of variables in big builds.
  std::unordered_map<std::string, size_t> env_index_;
  std::unordered_map<std::string, size_t> arg_index_;
  std::set<std::string> consumed_;
};

}  // namespace imgbuild::builder::dockerfile
