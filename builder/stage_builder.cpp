#include "builder/stage_builder.h"

#include <algorithm>

#include "base/fs.h"
#include "base/sha256.h"
#include "builder/dockerfile/parser.h"
#include "runtime/process_config.h"

namespace imgbuild::builder {

namespace df = dockerfile;

namespace {

std::string first_line(std::string_view text, size_t max = 80) {
  std::string out(text.substr(0, text.find('\n')));
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

}  // namespace

std::string instruction_context(std::string_view filename, const df::Instruction& ins) {
  return std::string(filename) + ":" + std::to_string(ins.start_line) + ": " +
         first_line(ins.original, 60);
}

std::string StageBuilder::step_title(const df::Instruction& ins, size_t index) const {
  // As BuildKit: "[2/4] ..." when one stage is built, "[stage-1 2/4]" or "[builder 2/4]" else.
  std::string name = stage_.name.empty() ? "stage-" + std::to_string(stage_.index) : stage_.name;
  std::string prefix = s_.plan.stages.size() == 1 ? "" : name + " ";
  size_t total = stage_.instructions.size() + 1 + onbuild_count_;
  return "[" + prefix + std::to_string(index + 1) + "/" + std::to_string(total) + "] " +
         first_line(ins.original);
}

std::string StageBuilder::step_id(size_t index) const {
  return Sha256::hex_of(s_.context_abs + "\n" + s_.options.dockerfile_name + "\n" +
                        std::to_string(stage_.index) + "\n" + std::to_string(index));
}

std::vector<std::string> StageBuilder::shell() const {
  if (!st_.config.config.shell.empty()) return st_.config.config.shell;
  return {"/bin/sh", "-c"};
}

Result<std::vector<std::string>> StageBuilder::lowers_top_first() {
  auto dirs = TRY(s_.layer_dirs(st_.layers));
  std::reverse(dirs.begin(), dirs.end());
  return dirs;
}

void StageBuilder::add_history(const std::string& created_by, bool empty_layer,
                               const std::string& created) {
  image::HistoryEntry h;
  h.created = created;
  h.created_by = created_by;
  h.comment = "buildkit.dockerfile.v0";
  h.empty_layer = empty_layer;
  st_.config.history.push_back(std::move(h));
}

Status StageBuilder::from() {
  const df::Instruction& ins = stage_.from;
  int step = s_.progress.begin(step_title(ins, 0));
  auto fail_step = [&](Error e) {
    s_.progress.failed(step, e.message());
    return std::unexpected(std::move(e).with_context(instruction_context(s_.plan.filename, ins)));
  };
  switch (stage_.base.kind) {
    case df::StageBase::Kind::kScratch:
      st_.config.os = s_.platform.os;
      st_.config.architecture = s_.platform.architecture;
      st_.config.variant = s_.platform.variant;
      st_.config.config.working_dir = "/";  // BuildKit's empty image config
      st_.key = Sha256::hex_of("scratch " + s_.platform.os + "/" + s_.platform.architecture);
      if (s_.options.source_date_epoch) st_.last_created = s_.now_created();
      break;
    case df::StageBase::Kind::kStage: {
      const StageResult* parent = s_.result(stage_.base.stage);
      if (parent == nullptr) {
        return fail_step(Error(ErrorKind::kInternal, "stage " + std::to_string(stage_.base.stage) +
                                                         " has not been built"));
      }
      st_ = *parent;
      break;
    }
    case df::StageBase::Kind::kImage: {
      auto img = s_.image(stage_.base.image);
      if (!img) return fail_step(img.error());
      st_.config = img->config;
      st_.config.history = img->config.history;
      for (size_t i = 0; i < img->manifest.layers.size() && i < img->config.diff_ids.size(); ++i) {
        st_.layers.push_back(LayerRef{img->config.diff_ids[i], img->manifest.layers[i]});
      }
      if (st_.layers.size() != img->config.diff_ids.size()) {
        return fail_step(
            Error(ErrorKind::kCorrupt,
                  "image " + stage_.base.image + ": manifest and config disagree on layers"));
      }
      st_.key = Sha256::hex_of("image " + img->manifest_digest.str());
      st_.last_created = img->config.created;
      break;
    }
  }
  if (!st_.config.config.env_value("PATH")) {
    st_.config.config.set_env("PATH", runtime::kDefaultPath);
  }
  df::EnvList env;
  if (stage_.base.kind == df::StageBase::Kind::kStage) {
    env = st_.env;
  } else {
    for (const auto& kv : st_.config.config.env) {
      auto eq = kv.find('=');
      env.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    }
  }
  scope_.emplace(s_.plan.global, std::move(env));
  if (stage_.base.kind == df::StageBase::Kind::kStage) {
    s_.progress.cached(step, {});
  } else {
    s_.progress.done(step);
  }
  return {};
}

Result<StageResult> StageBuilder::run() {
  TRY(from());
  // ONBUILD triggers of the base image run first, then are not inherited.
  std::vector<std::string> triggers = st_.config.config.on_build;
  st_.config.config.on_build.clear();
  if (!triggers.empty()) {
    st_.key = Sha256::hex_of(st_.key + "\nclear onbuild");
    onbuild_count_ = triggers.size();
  }
  size_t index = 1;
  for (const auto& text : triggers) {
    auto node = df::parse_instruction_line(text, s_.plan.filename);
    if (!node) {
      return std::unexpected(
          node.error().with_context(instruction_context(s_.plan.filename, stage_.from)));
    }
    auto ins = df::parse_instruction(*node, s_.plan.filename);
    if (!ins) return std::unexpected(ins.error());
    ins->start_line = stage_.from.start_line;
    ins->end_line = stage_.from.end_line;
    TRY(execute(*ins, index++, true));
  }
  for (const auto& raw : stage_.instructions) TRY(execute(raw, index++, false));
  st_.env = scope_->env();
  return st_;
}

Status StageBuilder::execute(const df::Instruction& raw, size_t index, bool onbuild) {
  df::Instruction ins = TRY(scope_->dispatch(raw));
  auto context = instruction_context(s_.plan.filename, ins);
  Status status;
  if (ins.name == "RUN") {
    status = run_step(ins, index);
  } else if (ins.name == "COPY" || ins.name == "ADD") {
    status = copy_step(ins, index, onbuild);
  } else if (ins.name == "WORKDIR") {
    status = workdir_step(ins, index);
  } else {
    status = apply_metadata(ins);
  }
  if (!status) return std::unexpected(std::move(status).error().with_context(context));
  return {};
}

Status StageBuilder::apply_metadata(const df::Instruction& ins) {
  image::ContainerConfig& c = st_.config.config;
  bool history = true;
  if (auto* e = ins.get<df::EnvInstr>()) {
    (void)e;
    c.env.clear();
    for (const auto& [k, v] : scope_->env()) c.env.push_back(k + "=" + v);
  } else if (auto* l = ins.get<df::LabelInstr>()) {
    for (const auto& kv : l->labels) c.labels[kv.key] = kv.value;
  } else if (auto* m = ins.get<df::MaintainerInstr>()) {
    st_.config.author = m->maintainer;
  } else if (auto* x = ins.get<df::ExposeInstr>()) {
    for (const auto& p : x->entries) c.exposed_ports.insert(p);
  } else if (auto* v = ins.get<df::VolumeInstr>()) {
    for (const auto& vol : v->volumes) c.volumes.insert(vol);
  } else if (auto* u = ins.get<df::UserInstr>()) {
    c.user = u->user;
  } else if (auto* cmd = ins.get<df::CmdInstr>()) {
    std::vector<std::string> args = cmd->command.args;
    if (cmd->command.prepend_shell) {
      args = shell();
      args.push_back(cmd->command.args.empty() ? std::string() : cmd->command.args[0]);
    }
    c.cmd = args;
    cmd_set_ = true;
  } else if (auto* ep = ins.get<df::EntrypointInstr>()) {
    std::vector<std::string> args = ep->command.args;
    if (ep->command.prepend_shell) {
      args = shell();
      args.push_back(ep->command.args.empty() ? std::string() : ep->command.args[0]);
    }
    c.entrypoint = args;
    // An ENTRYPOINT resets a CMD inherited from the base, as Docker does.
    if (!cmd_set_) c.cmd.reset();
  } else if (auto* sh = ins.get<df::ShellInstr>()) {
    c.shell = sh->shell;
  } else if (auto* sig = ins.get<df::StopsignalInstr>()) {
    c.stop_signal = sig->signal;
  } else if (auto* hc = ins.get<df::HealthcheckInstr>()) {
    nlohmann::json j;
    j["Test"] = hc->test;
    if (hc->interval_ns) j["Interval"] = hc->interval_ns;
    if (hc->timeout_ns) j["Timeout"] = hc->timeout_ns;
    if (hc->start_period_ns) j["StartPeriod"] = hc->start_period_ns;
    if (hc->start_interval_ns) j["StartInterval"] = hc->start_interval_ns;
    if (hc->retries) j["Retries"] = hc->retries;
    c.healthcheck = j;
  } else if (auto* ob = ins.get<df::OnbuildInstr>()) {
    c.on_build.push_back(ob->expression);
  } else if (ins.get<df::ArgInstr>() != nullptr) {
    history = false;  // ARG leaves no history entry; its value reaches RUN through the scope
  } else {
    return fail(ErrorKind::kUnsupported, "instruction " + ins.name + " is not supported");
  }
  std::string text = df::describe(ins);
  // ARG values reach later steps only through their expansions and RUN's environment, both part
  // of those steps' keys; chaining ARG itself would re-run steps that never use the value.
  if (history) {
    st_.key = Sha256::hex_of(st_.key + "\n" + text);
    add_history(text, true, s_.options.source_date_epoch ? s_.now_created() : st_.last_created);
  }
  return {};
}

Status StageBuilder::layer_step(size_t index, const std::string& title, const KeyInputs& inputs,
                                const std::string& created_by, const Producer& produce) {
  std::string key = inputs.key();
  std::string id = step_id(index);
  int step = s_.progress.begin(title);
  auto previous = s_.cache.previous_inputs(id);
  auto apply = [&](const CacheRecord& r) {
    std::string created = s_.options.source_date_epoch ? s_.now_created() : r.created;
    if (!r.empty_layer) {
      st_.layers.push_back(LayerRef{r.diff_id, r.blob});
      st_.config.diff_ids.push_back(r.diff_id);
    }
    add_history(created_by, r.empty_layer, created);
    st_.last_created = created;
    st_.key = key;
    st_.record_keys.push_back(key);
  };
  if (!s_.options.no_cache) {
    if (auto record = s_.cache.lookup(key)) {
      s_.progress.cached(step, record->source);
      ++s_.steps_cached;
      if (!previous || previous->key() != key) (void)s_.cache.save_inputs(id, inputs);
      apply(*record);
      return {};
    }
  }
  s_.progress.miss_reason(step,
                          s_.options.no_cache ? "--no-cache" : explain_miss(inputs, previous));
  auto run = [&]() -> Result<CacheRecord> {
    fs::TempDir staging = TRY(s_.store.make_staging_dir("layer"));
    TRY(produce(staging.path(), step));
    CacheRecord r;
    r.key = key;
    r.created = s_.now_created();
    if (TRY(dir_is_empty(staging.path()))) {
      r.empty_layer = true;
    } else {
      LayerRef layer =
          TRY(commit_layer_dir(s_.store, staging.path(), s_.options.source_date_epoch));
      staging.release();  // adopted into layers/
      r.diff_id = layer.diff_id;
      r.blob = layer.blob;
    }
    TRY(s_.cache.save(r));
    return r;
  };
  auto record = run();
  if (!record) {
    s_.progress.failed(step, record.error().message());
    return std::unexpected(record.error());
  }
  (void)s_.cache.save_inputs(id, inputs);
  ++s_.steps_executed;
  apply(*record);
  s_.progress.done(step);
  return {};
}

}  // namespace imgbuild::builder
