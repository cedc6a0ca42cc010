#include "builder/dockerfile/stage_scope.h"

#include <sys/utsname.h>

#include <algorithm>

#include "builder/dockerfile/limits.h"
#include "builder/dockerfile/parser.h"
#include "builder/dockerfile/port_spec.h"
#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

namespace {

void set_in(EnvList& list, const std::string& key, const std::string& value) {
  for (auto& [k, v] : list)
    if (k == key) {
      v = value;
      return;
    }
  list.emplace_back(key, value);
}

const std::string* find_in(const EnvList& list, std::string_view key) {
  for (const auto& [k, v] : list)
    if (k == key) return &v;
  return nullptr;
}

std::string platform_string(const std::string& os, const std::string& arch,
                            const std::string& variant) {
  return os + "/" + arch + (variant.empty() ? "" : "/" + variant);
}

// BuildKit verifies ADD --checksum only for one HTTP(S) source; anywhere else it refuses the flag
// rather than let a checksum that is never checked look like a guarantee.
Status check_add_checksum(const CopyInstr& copy) {
  if (!copy.is_add || copy.checksum.empty()) return {};
  if (copy.sources.size() + copy.inline_sources.size() != 1) {
    return fail(ErrorKind::kParse, "checksum can't be specified for multiple sources");
  }
  const bool http = !copy.sources.empty() && (copy.sources[0].starts_with("http://") ||
                                              copy.sources[0].starts_with("https://"));
  if (!http) return fail(ErrorKind::kParse, "checksum can't be specified for non-HTTP(S) sources");
  return {};
}

}  // namespace

PlatformArgs host_platform() {
  PlatformArgs p;
  struct utsname u {};
  if (uname(&u) == 0) {
    std::string m = u.machine;
    std::string arch = m, variant;
    if (m == "x86_64")
      arch = "amd64";
    else if (m == "aarch64" || m == "arm64")
      arch = "arm64";
    else if (m == "armv7l")
      arch = "arm", variant = "v7";
    else if (m == "armv6l")
      arch = "arm", variant = "v6";
    else if (m == "i386" || m == "i686")
      arch = "386";
    p.build_arch = p.target_arch = arch;
    p.build_variant = p.target_variant = variant;
  }
  return p;
}

bool is_proxy_arg(std::string_view name) {
  static const char* const kProxy[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                       "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                       "ALL_PROXY",  "all_proxy"};
  for (const char* p : kProxy)
    if (name == p) return true;
  return false;
}

Status ExpansionBudget::charge(uint64_t bytes, uint64_t steps) {
  if (bytes_.fetch_add(bytes) + bytes > kMaxBuildExpandedBytes)
    return fail(ErrorKind::kLimit,
                "expanded words exceed " + format_size(kMaxBuildExpandedBytes) + " in total");
  if (steps_.fetch_add(steps) + steps > kMaxBuildSteps)
    return fail(ErrorKind::kLimit,
                "expansions take more than " + std::to_string(kMaxBuildSteps) + " steps in total");
  return {};
}

Result<Expansion> GlobalScope::expand(std::string_view text, const EnvLookup& env,
                                      LexOptions options) const {
  options.escape = escape_;
  Expansion e = TRY(dockerfile::expand(text, env, options));
  TRY(budget_->charge(e.word.size(), e.steps));
  return e;
}

Result<std::string> GlobalScope::expand_word(std::string_view text) const {
  Expansion e = TRY(expand(text, lookup_fn()));
  return std::move(e.word);
}

Result<GlobalScope> GlobalScope::create(const std::vector<Instruction>& meta_arg_instructions,
                                        std::map<std::string, std::string> build_args,
                                        const PlatformArgs& platform, std::string_view filename,
                                        char escape) {
  GlobalScope g;
  g.build_args_ = std::move(build_args);
  g.filename_ = std::string(filename);
  g.escape_ = escape;
  const PlatformArgs& p = platform;
  g.values_ = {
      {"BUILDPLATFORM", platform_string(p.build_os, p.build_arch, p.build_variant)},
      {"BUILDOS", p.build_os},
      {"BUILDARCH", p.build_arch},
      {"BUILDVARIANT", p.build_variant},
      {"TARGETPLATFORM", platform_string(p.target_os, p.target_arch, p.target_variant)},
      {"TARGETOS", p.target_os},
      {"TARGETARCH", p.target_arch},
      {"TARGETVARIANT", p.target_variant},
  };
  for (const Instruction& instruction : meta_arg_instructions) {
    const ArgInstr* arg = instruction.get<ArgInstr>();
    if (!arg) continue;
    for (const ArgDecl& decl : arg->args) {
      std::optional<std::string> value;
      if (decl.value) {
        auto expanded = g.expand_word(*decl.value);
        if (!expanded)
          return std::unexpected(located_error(filename, instruction.start_line, expanded.error()));
        value = std::move(*expanded);
      }
      if (auto it = g.build_args_.find(decl.key); it != g.build_args_.end()) value = it->second;
      g.declared_.insert(decl.key);
      if (value) set_in(g.values_, decl.key, *value);
    }
  }
  return g;
}

std::optional<std::string> GlobalScope::lookup(std::string_view name) const {
  if (const std::string* v = find_in(values_, name)) return *v;
  return std::nullopt;
}

EnvLookup GlobalScope::lookup_fn() const {
  return [this](std::string_view name) { return lookup(name); };
}

StageScope::StageScope(const GlobalScope& global, EnvList base_env) : global_(&global) {
  for (auto& [k, v] : base_env) set_in(env_, env_index_, k, v);
}

void StageScope::set_in(EnvList& list, std::unordered_map<std::string, size_t>& index,
                        const std::string& key, const std::string& value) {
  auto [it, inserted] = index.emplace(key, list.size());
  if (inserted)
    list.emplace_back(key, value);
  else
    list[it->second].second = value;
}

void StageScope::set_env(const std::string& key, const std::string& value) {
  set_in(env_, env_index_, key, value);
}

std::optional<std::string> StageScope::lookup(std::string_view name) const {
  std::string key(name);
  if (auto it = env_index_.find(key); it != env_index_.end()) return env_[it->second].second;
  if (auto it = arg_index_.find(key); it != arg_index_.end()) return args_[it->second].second;
  return std::nullopt;
}

EnvLookup StageScope::lookup_fn() const {
  return [this](std::string_view name) { return lookup(name); };
}

EnvList StageScope::run_env() const {
  EnvList out = env_;
  for (const auto& [k, v] : args_)
    if (!env_index_.count(k)) out.emplace_back(k, v);
  for (const auto& [k, v] : global_->build_args())
    if (is_proxy_arg(k) && !env_index_.count(k) && !arg_index_.count(k)) out.emplace_back(k, v);
  return out;
}

EnvList StageScope::history_args() const {
  EnvList out;
  for (const auto& [k, v] : args_)
    if (!is_proxy_arg(k)) out.emplace_back(k, v);
  return out;
}

Status StageScope::apply_arg(ArgInstr& arg, const Instruction& raw) {
  // Each declaration sees the ones before it on the same line, as in a shell.
  EnvLookup snapshot = lookup_fn();
  auto word = [&](const std::string& s) -> Result<std::string> {
    Expansion e = TRY(global_->expand(s, snapshot));
    return std::move(e.word);
  };
  for (ArgDecl& decl : arg.args) {
    decl.key = TRY(word(decl.key));
    std::optional<std::string> value;
    auto given = global_->build_args().find(decl.key);
    if (given != global_->build_args().end()) {
      if (decl.value) TRY(word(*decl.value));  // still must be valid
      value = given->second;
    } else if (decl.value) {
      value = TRY(word(*decl.value));
    } else {
      value = global_->lookup(decl.key);  // global ARG or automatic platform arg
    }
    consumed_.insert(decl.key);
    decl.value = value;
    if (value) set_in(args_, arg_index_, decl.key, *value);
  }
  (void)raw;
  return {};
}

Result<Instruction> StageScope::dispatch(const Instruction& raw) {
  Instruction out = raw;
  EnvLookup env = lookup_fn();
  auto word = [&](std::string& s) -> Status {
    Expansion e = TRY(global_->expand(s, env));
    s = std::move(e.word);
    return {};
  };
  auto run = [&]() -> Status {
    if (auto* env_i = out.get<EnvInstr>()) {
      for (KeyValue& kv : env_i->env) {
        TRY(word(kv.key));
        TRY(word(kv.value));
      }
      for (const KeyValue& kv : env_i->env) set_env(kv.key, kv.value);
    } else if (auto* label = out.get<LabelInstr>()) {
      for (KeyValue& kv : label->labels) {
        TRY(word(kv.key));
        TRY(word(kv.value));
      }
    } else if (auto* arg = out.get<ArgInstr>()) {
      TRY(apply_arg(*arg, raw));
    } else if (auto* expose = out.get<ExposeInstr>()) {
      std::vector<std::string> ports;
      for (const std::string& p : expose->ports) {
        Expansion e = TRY(global_->expand(p, env));
        ports.insert(ports.end(), e.words.begin(), e.words.end());
      }
      expose->ports = std::move(ports);
      expose->entries.clear();
      for (const std::string& p : expose->ports) TRY(parse_port_spec(p, expose->entries));
      uint64_t bytes = 0;
      for (const std::string& e : expose->entries) bytes += e.size() + 8;  // "e":{},
      TRY(global_->charge(bytes));
    } else if (auto* copy = out.get<CopyInstr>()) {
      TRY(word(copy->chown));
      TRY(word(copy->chmod));
      TRY(word(copy->checksum));
      for (std::string& e : copy->excludes) TRY(word(e));
      for (std::string& s : copy->sources) TRY(word(s));
      TRY(word(copy->dest));
      if (!copy->from.empty()) copy->from = TRY(global_->expand_word(copy->from));
      TRY(check_add_checksum(*copy));
      for (InlineFile& f : copy->inline_sources) {
        if (!f.expand) continue;
        LexOptions options;
        options.skip_process_quotes = true;
        Expansion e = TRY(global_->expand(f.data, env, options));
        f.data = std::move(e.word);
      }
    } else if (auto* workdir = out.get<WorkdirInstr>()) {
      TRY(word(workdir->path));
    } else if (auto* user = out.get<UserInstr>()) {
      TRY(word(user->user));
    } else if (auto* volume = out.get<VolumeInstr>()) {
      for (std::string& v : volume->volumes) {
        TRY(word(v));
        if (v.empty())
          return fail(ErrorKind::kParse, "VOLUME specified can not be an empty string");
      }
    } else if (auto* stop = out.get<StopsignalInstr>()) {
      TRY(word(stop->signal));
    } else if (auto* run_i = out.get<RunInstr>()) {
      for (std::string& m : run_i->mounts) TRY(word(m));
      // Every RUN's history entry repeats the stage's ARG values ("|2 A=1 B=2 sh -c ...").
      uint64_t history = 0;
      for (const auto& [k, v] : args_) history += k.size() + v.size() + 2;
      TRY(global_->charge(history));
    }
    return {};
  };
  auto status = run();
  if (!status)
    return std::unexpected(located_error(global_->filename(), raw.start_line, status.error()));
  return out;
}

}  // namespace imgbuild::builder::dockerfile
