// describe() and Go's duration syntax: the textual side of typed instructions.
#include <cstdint>
#include <string>

#include "builder/dockerfile/instructions.h"
#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

Result<int64_t> parse_go_duration(std::string_view orig) {
  auto invalid = [&]() {
    return fail(ErrorKind::kParse, "time: invalid duration " + text::go_quote(orig));
  };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  unsigned __int128 total = 0;
  const unsigned __int128 kMax = static_cast<unsigned __int128>(INT64_MAX) + (neg ? 1 : 0);
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return invalid();
    unsigned __int128 whole = 0;
    size_t i = 0;
    bool pre = false, post = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      whole = whole * 10 + static_cast<unsigned>(s[i] - '0');
      if (whole > kMax) return invalid();
      ++i, pre = true;
    }
    unsigned __int128 frac = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (scale < static_cast<unsigned __int128>(1e18)) {
          frac = frac * 10 + static_cast<unsigned>(s[i] - '0');
          scale *= 10;
        }
        ++i, post = true;
      }
    }
    if (!pre && !post) return invalid();
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !(s[u] >= '0' && s[u] <= '9')) ++u;
    std::string_view unit = s.substr(i, u - i);
    if (unit.empty())
      return fail(ErrorKind::kParse, "time: missing unit in duration " + text::go_quote(orig));
    uint64_t mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1000;
    else if (unit == "ms")
      mult = 1000000;
    else if (unit == "s")
      mult = 1000000000ull;
    else if (unit == "m")
      mult = 60ull * 1000000000ull;
    else if (unit == "h")
      mult = 3600ull * 1000000000ull;
    else
      return fail(ErrorKind::kParse, "time: unknown unit " + text::go_quote(unit) +
                                         " in duration " + text::go_quote(orig));
    unsigned __int128 v = whole * mult + frac * mult / scale;
    total += v;
    if (total > kMax) return invalid();
    s.remove_prefix(u);
  }
  int64_t out =
      total > static_cast<unsigned __int128>(INT64_MAX) ? INT64_MIN : static_cast<int64_t>(total);
  return neg && out != INT64_MIN ? -out : out;
}

namespace {

std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += text::go_quote(items[i]);
  }
  return out + "]";
}

std::string command_text(const CommandLine& c) {
  if (!c.prepend_shell) return json_array(c.args);
  return c.args.empty() ? std::string() : c.args[0];
}

std::string kv_text(const std::vector<KeyValue>& kvs) {
  std::string out;
  for (const KeyValue& kv : kvs) {
    if (!out.empty()) out += ' ';
    out += kv.key + (kv.no_delim ? " " : "=") + kv.value;
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

struct Describer {
  std::string operator()(const FromInstr& i) const {
    std::string out = i.platform.empty() ? "" : "--platform=" + i.platform + " ";
    out += i.base_name;
    if (!i.stage_name.empty()) out += " AS " + i.stage_name;
    return out;
  }
  std::string operator()(const RunInstr& i) const {
    std::string out;
    for (const auto& m : i.mounts) out += "--mount=" + m + " ";
    if (!i.network.empty()) out += "--network=" + i.network + " ";
    if (!i.security.empty()) out += "--security=" + i.security + " ";
    for (const auto& d : i.devices) out += "--device=" + d + " ";
    return out + command_text(i.command);
  }
  std::string operator()(const CmdInstr& i) const { return command_text(i.command); }
  std::string operator()(const EntrypointInstr& i) const { return command_text(i.command); }
  std::string operator()(const ShellInstr& i) const { return json_array(i.shell); }
  std::string operator()(const EnvInstr& i) const { return kv_text(i.env); }
  std::string operator()(const LabelInstr& i) const { return kv_text(i.labels); }
  std::string operator()(const MaintainerInstr& i) const { return i.maintainer; }
  std::string operator()(const ExposeInstr& i) const { return join(i.ports); }
  std::string operator()(const CopyInstr& i) const {
    std::string out;
    if (!i.from.empty()) out += "--from=" + i.from + " ";
    if (!i.chown.empty()) out += "--chown=" + i.chown + " ";
    if (!i.chmod.empty()) out += "--chmod=" + i.chmod + " ";
    if (i.link) out += "--link ";
    if (i.parents) out += "--parents ";
    for (const auto& e : i.excludes) out += "--exclude=" + e + " ";
    if (!i.checksum.empty()) out += "--checksum=" + i.checksum + " ";
    if (i.keep_git_dir)
      out += std::string("--keep-git-dir=") + (*i.keep_git_dir ? "true " : "false ");
    if (i.unpack) out += std::string("--unpack=") + (*i.unpack ? "true " : "false ");
    for (const auto& s : i.sources) out += s + " ";
    for (const auto& s : i.inline_sources) out += "<<" + s.name + " ";
    return out + i.dest;
  }
  std::string operator()(const VolumeInstr& i) const { return json_array(i.volumes); }
  std::string operator()(const UserInstr& i) const { return i.user; }
  std::string operator()(const WorkdirInstr& i) const { return i.path; }
  std::string operator()(const ArgInstr& i) const {
    std::string out;
    for (const ArgDecl& a : i.args) {
      if (!out.empty()) out += ' ';
      out += a.key;
      if (a.value) out += "=" + *a.value;
    }
    return out;
  }
  std::string operator()(const OnbuildInstr& i) const { return i.expression; }
  std::string operator()(const StopsignalInstr& i) const { return i.signal; }
  std::string operator()(const HealthcheckInstr& i) const {
    if (i.test.empty()) return "";
    if (i.test[0] == "NONE") return "NONE";
    std::string out;
    auto opt = [&](const char* name, int64_t ns) {
      if (ns) out += std::string("--") + name + "=" + std::to_string(ns / 1000000) + "ms ";
    };
    opt("interval", i.interval_ns);
    opt("timeout", i.timeout_ns);
    opt("start-period", i.start_period_ns);
    opt("start-interval", i.start_interval_ns);
    if (i.retries) out += "--retries=" + std::to_string(i.retries) + " ";
    std::vector<std::string> rest(i.test.begin() + 1, i.test.end());
    if (i.test[0] == "CMD-SHELL") return out + "CMD " + (rest.empty() ? "" : rest[0]);
    return out + "CMD " + json_array(rest);
  }
};

}  // namespace

std::string describe(const Instruction& instruction) {
  std::string args = std::visit(Describer{}, instruction.data);
  return args.empty() ? instruction.name : instruction.name + " " + args;
}

}  // namespace imgbuild::builder::dockerfile
