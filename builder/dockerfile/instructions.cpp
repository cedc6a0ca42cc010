// Typed instructions with BuildKit's checks and messages (instructions/parse.go). Each parse_*
// takes the node's flags and args; errors get file and line in parse_instruction().
#include "builder/dockerfile/instructions.h"

#include <algorithm>
#include <climits>

#include "builder/dockerfile/flags.h"
#include "builder/dockerfile/line_parsers.h"
#include "builder/dockerfile/parser.h"
#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

namespace {

constexpr const char* kInstructionNames[] = {
    "add",    "arg",   "cmd",         "copy",  "entrypoint", "env",
    "expose", "from",  "healthcheck", "label", "maintainer", "onbuild",
    "run",    "shell", "stopsignal",  "user",  "volume",     "workdir"};

std::unexpected<Error> error(std::string message) {
  return fail(ErrorKind::kParse, std::move(message));
}
std::unexpected<Error> at_least_one(const std::string& cmd) {
  return error(cmd + " requires at least one argument");
}
std::unexpected<Error> exactly_one(const std::string& cmd) {
  return error(cmd + " requires exactly one argument");
}

// nodeArgs: an ONBUILD node's arguments are its trigger's name and arguments.
std::vector<std::string> node_args(const Node& node) {
  std::vector<std::string> out = node.args;
  for (const Node& sub : node.sub) {
    out.push_back(sub.value);
    std::vector<std::string> more = node_args(sub);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

// handleJSONArgs: exec form keeps the items; shell form is one string.
std::vector<std::string> json_or_joined(const std::vector<std::string>& args, bool json) {
  if (json) return args;
  std::string joined;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) joined += ' ';
    joined += args[i];
  }
  return {joined};
}

Result<std::vector<KeyValue>> parse_kvps(const std::vector<std::string>& args,
                                         const std::string& cmd) {
  if (args.empty()) return at_least_one(cmd);
  if (args.size() % 3 != 0) return error("Bad input to " + cmd + ", too many arguments");
  std::vector<KeyValue> out;
  for (size_t j = 0; j < args.size(); j += 3) {
    if (args[j].empty()) return error(cmd + " names can not be blank");
    out.push_back({args[j], args[j + 1], args[j + 2].empty()});
  }
  return out;
}

CommandLine command_line(const Node& node, bool run_or_cmd) {
  CommandLine out;
  out.args = json_or_joined(node.args, node.json);
  if (!node.json && out.args.size() == 1 && out.args[0].empty() && node.args.empty())
    out.args.clear();
  out.prepend_shell = !node.json;
  if (run_or_cmd)
    for (const Heredoc& h : node.heredocs) out.files.push_back({h.name, h.content, false, h.chomp});
  return out;
}

Result<CopyInstr> parse_copy(const Node& node, bool is_add) {
  const char* cmd = is_add ? "ADD" : "COPY";
  if (node.args.size() < 2)
    return error(std::string(cmd) +
                 " requires at least two arguments, but only one was provided. Destination could "
                 "not be determined.");
  Flags flags(node.flags);
  flags.add_string("chown");
  flags.add_string("chmod");
  flags.add_bool("link");
  flags.add_strings("exclude");
  if (is_add) {
    flags.add_bool("keep-git-dir");
    flags.add_string("checksum");
    flags.add_bool("unpack");
  } else {
    flags.add_string("from");
    flags.add_bool("parents");
  }
  TRY(flags.parse());

  CopyInstr out;
  out.is_add = is_add;
  out.chown = flags.value("chown");
  out.chmod = flags.value("chmod");
  out.link = flags.is_true("link");
  out.excludes = flags.values("exclude");
  if (is_add) {
    out.checksum = flags.value("checksum");
    if (flags.used("keep-git-dir")) out.keep_git_dir = flags.is_true("keep-git-dir");
    if (flags.used("unpack")) out.unpack = flags.is_true("unpack");
  } else {
    out.from = flags.value("from");
    out.parents = flags.is_true("parents");
  }

  out.dest = node.args.back();
  if (TRY(parse_heredoc_marker(out.dest)))
    return error(std::string(cmd) + " cannot accept a heredoc as a destination");
  for (size_t i = 0; i + 1 < node.args.size(); ++i) {
    const std::string& src = node.args[i];
    std::optional<Heredoc> marker = TRY(parse_heredoc_marker(src));
    if (!marker) {
      out.sources.push_back(src);
      continue;
    }
    std::string content;
    for (const Heredoc& h : node.heredocs)
      if (h.name == marker->name) content = h.content;  // the last one of that name wins
    if (marker->chomp) content = chomp_heredoc(content);
    out.inline_sources.push_back({marker->name, content, marker->expand, marker->chomp});
  }
  return out;
}

Result<FromInstr> parse_from(const Node& node) {
  FromInstr out;
  const auto& args = node.args;
  if (args.size() == 3 && text::iequals(args[1], "as")) {
    out.stage_name = text::to_lower(args[2]);
    bool ok = !out.stage_name.empty() && out.stage_name[0] >= 'a' && out.stage_name[0] <= 'z';
    for (char c : out.stage_name)
      ok = ok &&
           ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
    if (!ok)
      return error("invalid name for build stage: " + text::go_quote(args[2]) +
                   ", name can't start with a number or contain symbols");
  } else if (args.size() != 1) {
    return error("FROM requires either one or three arguments");
  }
  Flags flags(node.flags);
  flags.add_string("platform");
  TRY(flags.parse());
  out.base_name = args[0];
  out.platform = flags.value("platform");
  return out;
}

Result<int64_t> parse_interval(const Flags& flags, const std::string& name) {
  std::string v = flags.value(name);
  if (v.empty()) return int64_t{0};
  int64_t d = TRY(parse_go_duration(v));
  if (d == 0) return int64_t{0};
  if (d < 1000000) return error("Interval \"" + name + "\" cannot be less than 1ms");
  return d;
}

Result<HealthcheckInstr> parse_healthcheck(const Node& node) {
  if (node.args.empty()) return at_least_one("HEALTHCHECK");
  HealthcheckInstr out;
  std::string type = text::to_upper(node.args[0]);
  std::vector<std::string> rest(node.args.begin() + 1, node.args.end());
  if (type == "NONE") {
    if (!rest.empty()) return error("HEALTHCHECK NONE takes no arguments");
    out.test = {"NONE"};
    return out;
  }
  Flags flags(node.flags);
  for (const char* f : {"interval", "timeout", "start-period", "start-interval", "retries"})
    flags.add_string(f);
  TRY(flags.parse());
  if (type != "CMD")
    return error("Unknown type " + text::go_quote(type) + " in HEALTHCHECK (try CMD)");
  std::vector<std::string> command = json_or_joined(rest, node.json);
  if (command.empty() || (!node.json && rest.empty()))
    return error("Missing command after HEALTHCHECK CMD");
  out.test.push_back(node.json ? "CMD" : "CMD-SHELL");
  out.test.insert(out.test.end(), command.begin(), command.end());
  out.interval_ns = TRY(parse_interval(flags, "interval"));
  out.timeout_ns = TRY(parse_interval(flags, "timeout"));
  out.start_period_ns = TRY(parse_interval(flags, "start-period"));
  out.start_interval_ns = TRY(parse_interval(flags, "start-interval"));
  if (std::string r = flags.value("retries"); !r.empty()) {
    size_t pos = (r[0] == '+' || r[0] == '-') ? 1 : 0;
    bool ok = pos < r.size();
    long long value = 0;
    for (size_t i = pos; ok && i < r.size(); ++i) {
      ok = r[i] >= '0' && r[i] <= '9';
      value = value * 10 + (r[i] - '0');
      if (value > INT_MAX) {
        return error("strconv.ParseInt: parsing " + text::go_quote(r) + ": value out of range");
      }
    }
    if (!ok) return error("strconv.ParseInt: parsing " + text::go_quote(r) + ": invalid syntax");
    if (r[0] == '-') value = -value;
    if (value < 0) return error("--retries cannot be negative (" + std::to_string(value) + ")");
    out.retries = static_cast<int>(value);
  }
  return out;
}

Result<InstructionData> parse_data(const Node& node) {
  const std::string& n = node.name;
  const auto& args = node.args;
  if (n == "env" || n == "label") {
    Flags flags(node.flags);
    TRY(flags.parse());
    std::vector<KeyValue> kvs = TRY(parse_kvps(args, text::to_upper(n)));
    if (n == "env") return EnvInstr{std::move(kvs)};
    return LabelInstr{std::move(kvs)};
  }
  if (n == "maintainer") {
    if (args.size() != 1) return exactly_one("MAINTAINER");
    Flags flags(node.flags);
    TRY(flags.parse());
    return MaintainerInstr{args[0]};
  }
  if (n == "add" || n == "copy") return InstructionData(TRY(parse_copy(node, n == "add")));
  if (n == "from") return InstructionData(TRY(parse_from(node)));
  if (n == "onbuild") {
    std::vector<std::string> all = node_args(node);
    if (all.empty()) return at_least_one("ONBUILD");
    Flags flags(node.flags);
    TRY(flags.parse());
    std::string trigger = text::to_upper(text::trim_space(all[0]));
    if (trigger == "ONBUILD") return error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (trigger == "MAINTAINER" || trigger == "FROM")
      return error(trigger + " isn't allowed as an ONBUILD trigger");
    // (?i)^\s*ONBUILD\s* removed from the original line.
    std::string_view expr = node.original;
    auto re_space = [](char c) {
      return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
    };
    while (!expr.empty() && re_space(expr.front())) expr.remove_prefix(1);
    if (expr.size() >= 7 && text::iequals(expr.substr(0, 7), "onbuild")) {
      expr.remove_prefix(7);
      while (!expr.empty() && re_space(expr.front())) expr.remove_prefix(1);
    }
    std::string expression(expr);
    for (const Heredoc& h : node.heredocs) expression += "\n" + h.content + h.name;
    return OnbuildInstr{expression};
  }
  if (n == "workdir" || n == "user") {
    if (args.size() != 1) return exactly_one(text::to_upper(n));
    Flags flags(node.flags);
    TRY(flags.parse());
    if (n == "user") return UserInstr{args[0]};
    return WorkdirInstr{args[0]};
  }
  if (n == "run") {
    Flags flags(node.flags);
    flags.add_strings("mount");
    flags.add_string("network");
    flags.add_string("security");
    flags.add_strings("device");
    TRY(flags.parse());
    if (args.empty()) return at_least_one("RUN");
    RunInstr out;
    out.command = command_line(node, true);
    out.mounts = flags.values("mount");
    out.network = flags.value("network");
    out.security = flags.value("security");
    out.devices = flags.values("device");
    if (!out.network.empty() && out.network != "default" && out.network != "none" &&
        out.network != "host")
      return error("unsupported network mode: " + out.network);
    if (!out.security.empty() && out.security != "sandbox" && out.security != "insecure")
      return error("unsupported security mode " + text::go_quote(out.security));
    return out;
  }
  if (n == "cmd" || n == "entrypoint") {
    Flags flags(node.flags);
    TRY(flags.parse());
    if (n == "cmd") return CmdInstr{command_line(node, true)};
    return EntrypointInstr{command_line(node, true)};
  }
  if (n == "healthcheck") return InstructionData(TRY(parse_healthcheck(node)));
  if (n == "expose") {
    if (args.empty()) return at_least_one("EXPOSE");
    Flags flags(node.flags);
    TRY(flags.parse());
    ExposeInstr out{args};
    std::sort(out.ports.begin(), out.ports.end());
    return out;
  }
  if (n == "volume") {
    if (args.empty()) return at_least_one("VOLUME");
    Flags flags(node.flags);
    TRY(flags.parse());
    VolumeInstr out;
    for (const std::string& v : args) {
      std::string_view t = text::trim_space(v);
      if (t.empty()) return error("VOLUME specified can not be an empty string");
      out.volumes.emplace_back(t);
    }
    return out;
  }
  if (n == "stopsignal") {
    if (args.size() != 1) return exactly_one("STOPSIGNAL");
    return StopsignalInstr{args[0]};
  }
  if (n == "arg") {
    if (args.empty()) return at_least_one("ARG");
    ArgInstr out;
    for (const std::string& a : args) {
      size_t eq = a.find('=');
      if (eq == std::string::npos) {
        out.args.push_back({a, std::nullopt});
        continue;
      }
      if (eq == 0) return error("ARG names can not be blank");
      out.args.push_back({a.substr(0, eq), a.substr(eq + 1)});
    }
    return out;
  }
  if (n == "shell") {
    Flags flags(node.flags);
    TRY(flags.parse());
    if (args.empty()) return at_least_one("SHELL");
    if (!node.json) return error("SHELL requires the arguments to be in JSON form");
    return ShellInstr{args};
  }
  return error("unknown instruction: " + node.value +
               text::suggestion(node.value, kInstructionNames,
                                sizeof(kInstructionNames) / sizeof(kInstructionNames[0]), false));
}

}  // namespace

Result<Instruction> parse_instruction(const Node& node, std::string_view filename) {
  auto data = parse_data(node);
  if (!data) return std::unexpected(located_error(filename, node.start_line, data.error()));
  Instruction out;
  out.name = text::to_upper(node.name);
  out.original = node.original;
  out.start_line = node.start_line;
  out.end_line = node.end_line;
  out.data = std::move(*data);
  return out;
}

Result<Stages> parse_stages(const ParsedDockerfile& parsed) {
  Stages out;
  for (const Node& node : parsed.nodes) {
    Instruction instruction = TRY(parse_instruction(node, parsed.filename));
    if (out.stages.empty()) {
      if (const ArgInstr* arg = instruction.get<ArgInstr>()) {
        out.meta_args.push_back(*arg);
        out.meta_arg_instructions.push_back(std::move(instruction));
        continue;
      }
    }
    if (instruction.get<FromInstr>()) {
      Stage stage;
      stage.index = out.stages.size();
      stage.from = std::move(instruction);
      out.stages.push_back(std::move(stage));
      continue;
    }
    if (out.stages.empty())
      return std::unexpected(
          parse_error(parsed.filename, node.start_line, "no build stage in current context"));
    out.stages.back().instructions.push_back(std::move(instruction));
  }
  if (out.stages.empty())
    return std::unexpected(
        parse_error(parsed.filename, 0, "dockerfile contains no stages to build"));
  return out;
}

}  // namespace imgbuild::builder::dockerfile
