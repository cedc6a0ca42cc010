#include "builder/dockerfile/build_plan.h"

#include <algorithm>
#include <functional>
#include <set>

#include "builder/dockerfile/parser.h"
#include "builder/dockerfile/shell_lexer.h"
#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

std::string PlanStage::display_name() const { return name.empty() ? std::to_string(index) : name; }

const PlanStage* BuildPlan::find(size_t dockerfile_index) const {
  for (const PlanStage& s : stages)
    if (s.index == dockerfile_index) return &s;
  return nullptr;
}

namespace {

// strconv.Atoi: optional sign, decimal digits, fits in int64.
std::optional<long long> parse_int(std::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t pos = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (pos == s.size() || s.size() > 18) return std::nullopt;  // larger: not an index
  long long v = 0;
  for (size_t i = pos; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return s[0] == '-' ? -v : v;
}

// The from= of a --mount value ("type=cache,from=build,target=/x"), if any.
std::string mount_from(std::string_view spec) {
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view field = spec.substr(pos, comma - pos);
    size_t eq = field.find('=');
    if (eq != std::string_view::npos &&
        text::to_lower(text::trim_space(field.substr(0, eq))) == "from")
      return std::string(field.substr(eq + 1));
    pos = comma + 1;
  }
  return "";
}

}  // namespace

Result<BuildPlan> make_build_plan(const ParsedDockerfile& parsed, const PlanOptions& options) {
  const std::string& file = parsed.filename;
  Stages all = TRY(parse_stages(parsed));

  BuildPlan plan;
  plan.filename = file;
  plan.escape = parsed.escape;
  plan.global = TRY(GlobalScope::create(all.meta_arg_instructions, options.build_args,
                                        options.platform, file, parsed.escape));

  std::vector<PlanStage> stages;
  std::map<std::string, size_t> by_name;
  for (Stage& stage : all.stages) {
    const FromInstr& from = *stage.from.get<FromInstr>();
    PlanStage ps;
    ps.index = stage.index;
    ps.name = from.stage_name;
    ps.from = stage.from;
    ps.instructions = std::move(stage.instructions);
    auto at_from = [&](const Error& e) {
      return std::unexpected(located_error(file, stage.from.start_line, e));
    };
    auto base = plan.global.expand_word(from.base_name);
    if (!base) return at_from(base.error());
    if (base->empty())
      return std::unexpected(parse_error(file, stage.from.start_line,
                                         "base name (" + from.base_name + ") should not be blank"));
    auto platform = plan.global.expand_word(from.platform);
    if (!platform) return at_from(platform.error());
    ps.platform = std::move(*platform);

    if (auto it = by_name.find(text::to_lower(*base)); it != by_name.end()) {
      ps.base.kind = StageBase::Kind::kStage;
      ps.base.stage = it->second;
      ps.deps.push_back(it->second);
    } else if (*base == "scratch") {
      ps.base.kind = StageBase::Kind::kScratch;
    } else {
      ps.base.kind = StageBase::Kind::kImage;
      ps.base.image = std::move(*base);
    }
    if (!ps.name.empty()) {
      if (by_name.count(ps.name))
        return std::unexpected(parse_error(file, stage.from.start_line,
                                           "duplicate stage name " + text::go_quote(ps.name)));
      by_name[ps.name] = ps.index;
    }
    stages.push_back(std::move(ps));
  }

  // --from references may name any stage (earlier or later); cycles are rejected below.
  for (PlanStage& ps : stages) {
    for (size_t i = 0; i < ps.instructions.size(); ++i) {
      const Instruction& instruction = ps.instructions[i];
      std::vector<std::string> refs;
      if (const CopyInstr* copy = instruction.get<CopyInstr>()) {
        if (!copy->from.empty()) refs.push_back(copy->from);
      } else if (const RunInstr* run = instruction.get<RunInstr>()) {
        for (const std::string& m : run->mounts)
          if (std::string f = mount_from(m); !f.empty()) refs.push_back(f);
      }
      for (const std::string& raw : refs) {
        auto value = plan.global.expand_word(raw);
        if (!value)
          return std::unexpected(located_error(file, instruction.start_line, value.error()));
        FromRef ref;
        ref.instruction = i;
        ref.value = *value;
        if (auto index = parse_int(*value)) {
          if (*index < 0 || static_cast<size_t>(*index) >= stages.size())
            return std::unexpected(parse_error(file, instruction.start_line,
                                               "invalid stage index " + std::to_string(*index)));
          ref.stage = static_cast<size_t>(*index);
        } else if (auto it = by_name.find(text::to_lower(*value)); it != by_name.end()) {
          ref.stage = it->second;
        }
        if (ref.stage && std::find(ps.deps.begin(), ps.deps.end(), *ref.stage) == ps.deps.end())
          ps.deps.push_back(*ref.stage);
        ps.copy_from.push_back(std::move(ref));
      }
    }
  }

  size_t target = stages.size() - 1;
  if (!options.target.empty()) {
    auto it = by_name.find(text::to_lower(options.target));
    if (it == by_name.end())
      return fail(ErrorKind::kNotFound, file + ": target stage " + text::go_quote(options.target) +
                                            " could not be found");
    target = it->second;
  }

  // Depth-first from the target: marks needed stages, rejects cycles, computes waves.
  std::vector<int> state(stages.size(), 0);  // 0 new, 1 in progress, 2 done
  std::vector<int> wave(stages.size(), 0);
  std::function<Status(size_t)> visit = [&](size_t s) -> Status {
    if (state[s] == 2) return {};
    if (state[s] == 1)
      return fail(ErrorKind::kParse,
                  file + ": circular dependency detected on stage: " + stages[s].display_name());
    state[s] = 1;
    int w = 0;
    for (size_t d : stages[s].deps) {
      TRY(visit(d));
      w = std::max(w, wave[d] + 1);
    }
    wave[s] = w;
    state[s] = 2;
    return {};
  };
  TRY(visit(target));

  std::set<std::string> consumed = plan.global.declared();
  for (size_t s = 0; s < stages.size(); ++s) {
    if (state[s] != 2) continue;
    stages[s].wave = wave[s];
    for (const Instruction& instruction : stages[s].instructions)
      if (const ArgInstr* arg = instruction.get<ArgInstr>())
        for (const ArgDecl& decl : arg->args) consumed.insert(decl.key);
    plan.stages.push_back(std::move(stages[s]));
  }
  for (size_t i = 0; i < plan.stages.size(); ++i) {
    if (plan.stages[i].index == target) plan.target = i;
    size_t w = static_cast<size_t>(plan.stages[i].wave);
    if (plan.waves.size() <= w) plan.waves.resize(w + 1);
    plan.waves[w].push_back(i);
  }

  std::string unused;
  for (const auto& [key, value] : options.build_args) {
    if (consumed.count(key) || is_proxy_arg(key)) continue;
    if (!unused.empty()) unused += ' ';
    unused += key;
  }
  if (!unused.empty())
    plan.warnings.push_back("[Warning] One or more build-args [" + unused + "] were not consumed");
  return plan;
}

Result<std::vector<ExpandedStage>> expand_stages(const BuildPlan& plan) {
  std::vector<ExpandedStage> out;
  std::map<size_t, EnvList> final_env;
  for (const PlanStage& stage : plan.stages) {
    EnvList base;
    if (stage.base.kind == StageBase::Kind::kStage) base = final_env[stage.base.stage];
    StageScope scope(plan.global, base);
    ExpandedStage expanded;
    expanded.stage = &stage;
    for (const Instruction& instruction : stage.instructions)
      expanded.instructions.push_back(TRY(scope.dispatch(instruction)));
    expanded.env = scope.env();
    final_env[stage.index] = expanded.env;
    out.push_back(std::move(expanded));
  }
  return out;
}

}  // namespace imgbuild::builder::dockerfile
