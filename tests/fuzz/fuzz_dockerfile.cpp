// Fuzzes the whole front end on one input: parse, type, plan (with a build arg and a target
// taken from the input), and expand every planned stage. Errors are fine; crashes, hangs and
// sanitizer reports are not.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "builder/dockerfile/build_plan.h"
#include "builder/dockerfile/parser.h"

namespace df = imgbuild::builder::dockerfile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  if (!parsed) return 0;
  for (const df::Node& node : parsed->nodes) {
    auto instruction = df::parse_instruction(node, "Dockerfile");
    if (instruction) (void)df::describe(*instruction);
  }
  df::PlanOptions options;
  options.build_args = {{"A", "1 2"}, {"HTTP_PROXY", "p"}};
  options.platform = df::PlatformArgs{};
  auto plan = df::make_build_plan(*parsed, options);
  if (!plan) return 0;
  auto stages = df::expand_stages(*plan);
  if (stages)
    for (const auto& s : *stages)
      for (const auto& i : s.instructions) (void)df::describe(i);
  // A named target, when the file has one.
  if (!plan->stages.empty() && !plan->stages.front().name.empty()) {
    options.target = plan->stages.front().name;
    (void)df::make_build_plan(*parsed, options);
  }
  return 0;
}
