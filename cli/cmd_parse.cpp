// imgbuild parse: parses a Dockerfile, resolves the stages the target needs and prints them with
// their instructions expanded where Docker expands at dispatch time (base images contribute no
// environment here). A debugging aid, and the same front end the build engine consumes.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/sys.h"
#include "builder/dockerfile/build_plan.h"
#include "builder/dockerfile/limits.h"
#include "builder/dockerfile/parser.h"
#include "cli/command.h"

namespace imgbuild::cli {
namespace {

namespace df = builder::dockerfile;

struct ParseOptions {
  std::string file = "Dockerfile";
  std::vector<std::string> build_args;
  std::string target;
  std::string format = "text";
  bool timing = false;
};

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

Result<std::string> read_input(const std::string& file) {
  // Bounded as the parser bounds it: a huge input is an error before it is all in memory.
  constexpr size_t kMax = builder::dockerfile::kMaxDockerfileBytes;
  if (file == "-") return builder::dockerfile::read_fd_limited(STDIN_FILENO, "stdin", kMax);
  return builder::dockerfile::read_file_limited(file, kMax);
}

// --build-arg K=V, or K alone to take the value from the environment (skipped when unset), as
// docker build does.
std::map<std::string, std::string> build_arg_map(const std::vector<std::string>& args) {
  std::map<std::string, std::string> out;
  for (const std::string& a : args) {
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      out[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (const char* v = std::getenv(a.c_str())) {
      out[a] = v;
    }
  }
  return out;
}

const char* base_kind(df::StageBase::Kind kind) {
  switch (kind) {
    case df::StageBase::Kind::kScratch: return "scratch";
    case df::StageBase::Kind::kStage: return "stage";
    case df::StageBase::Kind::kImage: return "image";
  }
  return "?";
}

std::string base_text(const df::BuildPlan& plan, const df::PlanStage& stage) {
  switch (stage.base.kind) {
    case df::StageBase::Kind::kScratch: return "scratch";
    case df::StageBase::Kind::kImage: return stage.base.image + " (image)";
    case df::StageBase::Kind::kStage: {
      const df::PlanStage* parent = plan.find(stage.base.stage);
      return (parent ? parent->display_name() : std::to_string(stage.base.stage)) + " (stage " +
             std::to_string(stage.base.stage) + ")";
    }
  }
  return "";
}

std::string lines(const df::Instruction& i) {
  return i.start_line == i.end_line
             ? std::to_string(i.start_line)
             : std::to_string(i.start_line) + "-" + std::to_string(i.end_line);
}

void print_text(const df::BuildPlan& plan, const std::vector<df::ExpandedStage>& stages) {
  const df::PlanStage& target = plan.stages[plan.target];
  std::printf("# %s: target %s, %zu stage(s) needed, %zu wave(s)\n", plan.filename.c_str(),
              target.display_name().c_str(), plan.stages.size(), plan.waves.size());
  for (const df::ExpandedStage& e : stages) {
    const df::PlanStage& s = *e.stage;
    std::printf("\nstage %zu", s.index);
    if (!s.name.empty()) std::printf(" \"%s\"", s.name.c_str());
    std::printf(" (wave %d", s.wave);
    if (!s.deps.empty()) {
      std::printf(", needs");
      for (size_t d : s.deps) {
        const df::PlanStage* dep = plan.find(d);
        std::printf(" %s", dep ? dep->display_name().c_str() : std::to_string(d).c_str());
      }
    }
    std::printf(")\n");
    std::printf("  %s: FROM %s", lines(s.from).c_str(), base_text(plan, s).c_str());
    if (!s.platform.empty()) std::printf(" --platform=%s", s.platform.c_str());
    std::printf("\n");
    for (const df::Instruction& i : e.instructions)
      std::printf("  %s: %s\n", lines(i).c_str(), df::describe(i).c_str());
  }
}

void print_json(const df::BuildPlan& plan, const std::vector<df::ExpandedStage>& stages) {
  nlohmann::json out;
  out["file"] = plan.filename;
  out["escape"] = std::string(1, plan.escape);
  out["target"] = plan.stages[plan.target].display_name();
  out["waves"] = nlohmann::json::array();
  for (const auto& wave : plan.waves) {
    nlohmann::json w = nlohmann::json::array();
    for (size_t pos : wave) w.push_back(plan.stages[pos].index);
    out["waves"].push_back(w);
  }
  out["stages"] = nlohmann::json::array();
  for (const df::ExpandedStage& e : stages) {
    const df::PlanStage& s = *e.stage;
    nlohmann::json j;
    j["index"] = s.index;
    j["name"] = s.name;
    j["base"] = {{"kind", base_kind(s.base.kind)}};
    if (s.base.kind == df::StageBase::Kind::kImage) j["base"]["image"] = s.base.image;
    if (s.base.kind == df::StageBase::Kind::kStage) j["base"]["stage"] = s.base.stage;
    j["platform"] = s.platform;
    j["line"] = s.from.start_line;
    j["wave"] = s.wave;
    j["deps"] = s.deps;
    j["instructions"] = nlohmann::json::array();
    for (const df::Instruction& i : e.instructions)
      j["instructions"].push_back({{"instruction", i.name},
                                   {"start_line", i.start_line},
                                   {"end_line", i.end_line},
                                   {"text", df::describe(i)},
                                   {"original", i.original}});
    j["env"] = nlohmann::json::array();
    for (const auto& [k, v] : e.env) j["env"].push_back(k + "=" + v);
    out["stages"].push_back(std::move(j));
  }
  out["warnings"] = plan.warnings;
  // Invalid UTF-8 in a Dockerfile must not abort the dump: replace it.
  std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

int run(const ParseOptions& o) {
  auto text = read_input(o.file);
  if (!text) return report_error(text.error().with_context("reading Dockerfile"));
  std::string name = o.file == "-" ? "Dockerfile" : o.file;
  auto t0 = std::chrono::steady_clock::now();
  auto parsed = df::parse_dockerfile(*text, name);
  double parse_ms = ms_since(t0);
  if (!parsed) return report_error(parsed.error());
  for (const std::string& w : parsed->warnings) print_warning(w);
  df::PlanOptions options;
  options.target = o.target;
  options.build_args = build_arg_map(o.build_args);
  auto t1 = std::chrono::steady_clock::now();
  auto plan = df::make_build_plan(*parsed, options);
  if (!plan) return report_error(plan.error());
  double plan_ms = ms_since(t1);
  auto t2 = std::chrono::steady_clock::now();
  auto stages = df::expand_stages(*plan);
  if (!stages) return report_error(stages.error());
  double expand_ms = ms_since(t2);
  if (o.timing)
    std::fprintf(stderr, "timing: parse %.2f ms, plan %.2f ms, expand %.2f ms, total %.2f ms\n",
                 parse_ms, plan_ms, expand_ms, parse_ms + plan_ms + expand_ms);
  for (const std::string& w : plan->warnings) print_warning(w);
  if (o.format == "json")
    print_json(*plan, *stages);
  else
    print_text(*plan, *stages);
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(parse, Command{
                            .name = "parse",
                            .description = "Parse a Dockerfile and print the resolved build plan",
                            .setup = [](CLI::App& sub, const GlobalOptions&) -> Runner {
                              auto o = std::make_shared<ParseOptions>();
                              sub.add_option("-f,--file", o->file,
                                             "Dockerfile to parse ('-' for stdin)")
                                  ->capture_default_str();
                              sub.add_option("--build-arg", o->build_args,
                                             "Build-time variable KEY=VALUE (repeatable)");
                              sub.add_option("--target", o->target, "Stage to build");
                              sub.add_option("--format", o->format, "Output format")
                                  ->check(CLI::IsMember({"text", "json"}))
                                  ->capture_default_str();
                              sub.add_flag("--timing", o->timing,
                                           "Print the time spent parsing, planning and expanding");
                              return [o] { return run(*o); };
                            },
                            .host_namespaces = true,
                        });

}  // namespace imgbuild::cli
