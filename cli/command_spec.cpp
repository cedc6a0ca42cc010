#include "cli/command_spec.h"

#include <algorithm>
#include <map>
#include <utility>

namespace imgbuild::cli {
namespace {

// Commands whose first positional starts the command to run (CLI11 prefix_command()).
const std::map<std::string, ArgKind> kPrefixTargets = {
    {"run", ArgKind::kImage}, {"create", ArgKind::kImage}, {"exec", ArgKind::kContainer}};

// Positional names that are not files, by command ("" = any command).
const std::map<std::pair<std::string, std::string>, ArgKind> kPositionalKinds = {
    {{"", "IMAGE"}, ArgKind::kImage},
    {{"", "image"}, ArgKind::kImage},
    {{"", "SOURCE"}, ArgKind::kImage},
    {{"", "REF"}, ArgKind::kImage},
    {{"", "CONTAINER"}, ArgKind::kContainer},
    {{"", "container"}, ArgKind::kContainer},
    {{"", "containers"}, ArgKind::kContainer},
    {{"", "context"}, ArgKind::kDirectory},
    {{"", "dir"}, ArgKind::kDirectory},
    {{"", "MOUNTPOINT"}, ArgKind::kDirectory},
    {{"inspect", "NAME"}, ArgKind::kImageOrContainer},
    {{"", "NAME"}, ArgKind::kNone},
    {{"", "NEW_NAME"}, ArgKind::kNone},
    {{"", "TARGET"}, ArgKind::kNone},
    {{"", "DEST_REF"}, ArgKind::kNone},
    {{"", "REGISTRY"}, ArgKind::kNone},
    {{"", "REPOSITORY"}, ArgKind::kNone},
    {{"", "id"}, ArgKind::kNone},
};

ArgKind positional_kind(const std::string& command, const std::string& name) {
  if (auto it = kPositionalKinds.find({command, name}); it != kPositionalKinds.end()) {
    return it->second;
  }
  if (auto it = kPositionalKinds.find({"", name}); it != kPositionalKinds.end()) return it->second;
  return ArgKind::kFile;
}

ArgKind option_kind(const std::vector<std::string>& long_names) {
  for (const auto& n : long_names) {
    if (n.ends_with("file")) return ArgKind::kFile;
    if (n.ends_with("dir") || n == "root" || n == "context") return ArgKind::kDirectory;
  }
  return ArgKind::kNone;
}

// "TEXT:{bash,zsh}" -> bash, zsh.
std::vector<std::string> choices_of(const std::string& type_name) {
  std::vector<std::string> out;
  size_t open = type_name.find(":{");
  size_t close = type_name.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return out;
  std::string list = type_name.substr(open + 2, close - open - 2);
  for (size_t start = 0; start <= list.size();) {
    size_t comma = std::min(list.find(',', start), list.size());
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

OptionSpec describe_option(const CLI::Option& opt) {
  OptionSpec out;
  for (const auto& s : opt.get_snames()) out.names.push_back("-" + s);
  for (const auto& l : opt.get_lnames()) out.names.push_back("--" + l);
  if (opt.get_expected_max() > 0 && opt.get_type_size_max() > 0) {  // flags expect 0 values
    out.value_name = opt.get_type_name();
    if (out.value_name.empty()) out.value_name = "VALUE";
  }
  out.description = opt.get_description();
  out.kind = out.value_name.empty() ? ArgKind::kNone : option_kind(opt.get_lnames());
  if (!out.value_name.empty()) out.choices = choices_of(out.value_name);
  out.hidden = opt.get_group().empty();
  return out;
}

}  // namespace

CommandSpec describe_app(const CLI::App& app) {
  CommandSpec out;
  out.name = app.get_name();
  out.aliases = app.get_aliases();
  out.description = app.get_description();
  out.hidden = app.get_group().empty();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->nonpositional()) {
      out.options.push_back(describe_option(*opt));
    } else if (opt->get_positional()) {
      PositionalSpec p;
      p.name = opt->get_name(true);
      p.description = opt->get_description();
      p.kind = positional_kind(out.name, p.name);
      p.choices = choices_of(opt->get_type_name());
      p.required = opt->get_required();
      p.repeated = opt->get_items_expected_max() > 1;
      out.positionals.push_back(std::move(p));
    }
  }
  out.takes_command = app.get_prefix_command();
  if (out.takes_command) {
    auto it = kPrefixTargets.find(out.name);
    out.command_target = it != kPrefixTargets.end() ? it->second : ArgKind::kNone;
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    out.subcommands.push_back(describe_app(*sub));
  }
  std::sort(out.subcommands.begin(), out.subcommands.end(),
            [](const CommandSpec& a, const CommandSpec& b) { return a.name < b.name; });
  return out;
}

std::vector<std::string> visible_command_names(const CommandSpec& spec) {
  std::vector<std::string> out;
  for (const auto& sub : spec.subcommands) {
    if (sub.hidden) continue;
    out.push_back(sub.name);
    out.insert(out.end(), sub.aliases.begin(), sub.aliases.end());
  }
  return out;
}

std::vector<std::string> visible_option_names(const CommandSpec& spec) {
  std::vector<std::string> out;
  for (const auto& opt : spec.options) {
    if (!opt.hidden) out.insert(out.end(), opt.names.begin(), opt.names.end());
  }
  return out;
}

}  // namespace imgbuild::cli
