// Internal to the build engine: runs one stage of the plan, instruction by instruction.
//
// For every instruction: expand it through the stage's StageScope, compute its cache key from the
// parent key and its inputs, then either apply the cached record (no layer data touched) or
// execute it: RUN through the StepRunner on the stage's layers, COPY/ADD/WORKDIR straight into a
// staging directory that becomes the layer, metadata instructions into the config with an
// empty_layer history entry. Errors carry "<Dockerfile>:<line>: <instruction>: " context.
// One StageBuilder per stage, used by one thread.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "builder/build_session.h"
#include "builder/dockerfile/build_plan.h"
#include "builder/dockerfile/stage_scope.h"
#include "builder/layer_view.h"

namespace imgbuild::builder {

class StageBuilder {
 public:
  StageBuilder(BuildSession& session, const dockerfile::PlanStage& stage)
      : s_(session), stage_(stage) {}

  Result<StageResult> run();

 private:
  Status from();
  Status execute(const dockerfile::Instruction& raw, size_t index, bool onbuild);
  Status apply_metadata(const dockerfile::Instruction& ins);
  Status run_step(const dockerfile::Instruction& ins, size_t index);
  Status copy_step(const dockerfile::Instruction& ins, size_t index, bool onbuild);
  Status workdir_step(const dockerfile::Instruction& ins, size_t index);

  using Producer = std::function<Status(const std::string& staging, int step)>;
  // Cache lookup, or execution through `produce` into a staging dir that becomes the layer.
  Status layer_step(size_t index, const std::string& title, const KeyInputs& inputs,
                    const std::string& created_by, const Producer& produce);
  void add_history(const std::string& created_by, bool empty_layer, const std::string& created);

  // The stage's current filesystem (top first), extracting layers only when asked.
  Result<std::vector<std::string>> lowers_top_first();
  std::string step_title(const dockerfile::Instruction& ins, size_t index) const;
  std::string step_id(size_t index) const;
  std::vector<std::string> shell() const;

  BuildSession& s_;
  const dockerfile::PlanStage& stage_;
  StageResult st_;
  std::optional<dockerfile::StageScope> scope_;
  bool cmd_set_ = false;
  size_t onbuild_count_ = 0;
};

// "Dockerfile:5: RUN make: " prefix for errors of an instruction.
std::string instruction_context(std::string_view filename, const dockerfile::Instruction& ins);

}  // namespace imgbuild::builder
