#include "runtime/rlimits.h"

#include <charconv>

#include "base/fs.h"
#include "base/user_namespace.h"
#include "runtime/docker_defaults.h"

namespace imgbuild::runtime {
namespace {

struct Resource {
  std::string_view docker_name;
  int resource;
  const char* kernel_name;
};

// go-units' ulimitNameMapping.
constexpr Resource kResources[] = {
    {"core", RLIMIT_CORE, "RLIMIT_CORE"},
    {"cpu", RLIMIT_CPU, "RLIMIT_CPU"},
    {"data", RLIMIT_DATA, "RLIMIT_DATA"},
    {"fsize", RLIMIT_FSIZE, "RLIMIT_FSIZE"},
    {"locks", RLIMIT_LOCKS, "RLIMIT_LOCKS"},
    {"memlock", RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
    {"msgqueue", RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"},
    {"nice", RLIMIT_NICE, "RLIMIT_NICE"},
    {"nofile", RLIMIT_NOFILE, "RLIMIT_NOFILE"},
    {"nproc", RLIMIT_NPROC, "RLIMIT_NPROC"},
    {"rss", RLIMIT_RSS, "RLIMIT_RSS"},
    {"rtprio", RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
    {"rttime", RLIMIT_RTTIME, "RLIMIT_RTTIME"},
    {"sigpending", RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
    {"stack", RLIMIT_STACK, "RLIMIT_STACK"},
};

const Resource* find_resource(std::string_view name) {
  for (const auto& r : kResources) {
    if (r.docker_name == name) return &r;
  }
  return nullptr;
}

Result<int64_t> parse_value(std::string_view text, std::string_view spec) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < kUnlimited) {
    return fail(ErrorKind::kInvalidArgument,
                "invalid ulimit value \"" + std::string(text) + "\" in " + std::string(spec));
  }
  return v;
}

rlim_t to_rlim(int64_t v) { return v == kUnlimited ? RLIM_INFINITY : static_cast<rlim_t>(v); }

std::string limit_text(rlim_t v) {
  return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v);
}

}  // namespace

Result<Ulimit> parse_ulimit(std::string_view spec) {
  size_t eq = spec.find('=');
  if (eq == std::string_view::npos) {
    return fail(ErrorKind::kInvalidArgument, "invalid ulimit argument: " + std::string(spec));
  }
  Ulimit u;
  u.name = std::string(spec.substr(0, eq));
  if (find_resource(u.name) == nullptr) {
    return fail(ErrorKind::kInvalidArgument, "invalid ulimit type: " + u.name);
  }
  std::string_view values = spec.substr(eq + 1);
  size_t colon = values.find(':');
  if (colon != std::string_view::npos && values.find(':', colon + 1) != std::string_view::npos) {
    return fail(ErrorKind::kInvalidArgument, "too many limit value arguments - " +
                                                 std::string(values) +
                                                 ", can only have up to two, `soft[:hard]`");
  }
  u.soft = TRY(parse_value(values.substr(0, colon), spec));
  u.hard =
      colon == std::string_view::npos ? u.soft : TRY(parse_value(values.substr(colon + 1), spec));
  if (u.hard != kUnlimited && (u.soft == kUnlimited || u.soft > u.hard)) {
    return fail(ErrorKind::kInvalidArgument,
                "ulimit soft limit must be less than or equal to hard limit: " +
                    std::to_string(u.soft) + " > " + std::to_string(u.hard));
  }
  return u;
}

std::string to_string(const Ulimit& u) {
  if (u.soft == u.hard) return u.name + "=" + std::to_string(u.soft);
  return u.name + "=" + std::to_string(u.soft) + ":" + std::to_string(u.hard);
}

Result<std::vector<RlimitSetting>> plan_rlimits(const std::vector<Ulimit>& ulimits) {
  std::vector<RlimitSetting> out;
  bool nofile_given = false;
  for (const auto& u : ulimits) nofile_given = nofile_given || u.name == "nofile";
  if (!nofile_given) {
    // Docker's limits, but never above what this process may raise them to.
    struct rlimit own {};
    ::getrlimit(RLIMIT_NOFILE, &own);
    rlim_t hard = std::min<rlim_t>(kNofileHard, own.rlim_max);
    out.push_back({RLIMIT_NOFILE, "RLIMIT_NOFILE", {std::min<rlim_t>(kNofileSoft, hard), hard}});
  }
  bool rootless = in_user_namespace();
  for (const auto& u : ulimits) {
    const Resource* r = find_resource(u.name);
    if (r == nullptr) {
      return fail(ErrorKind::kInvalidArgument, "invalid ulimit type: " + u.name);
    }
    RlimitSetting s{r->resource, r->kernel_name, {to_rlim(u.soft), to_rlim(u.hard)}};
    struct rlimit own {};
    ::getrlimit(r->resource, &own);
    // Only CAP_SYS_RESOURCE in the initial user namespace raises a hard limit; a user
    // namespace's root (rootless) cannot, and setrlimit would fail with a bare EPERM.
    if (rootless && s.limit.rlim_max > own.rlim_max) {
      return fail(ErrorKind::kPermission,
                  "--ulimit " + to_string(u) + ": cannot raise the hard limit above " +
                      limit_text(own.rlim_max) +
                      " (rootless: only root on the host can raise hard limits)");
    }
    if (r->resource == RLIMIT_NOFILE) {
      // The kernel refuses an RLIMIT_NOFILE above fs.nr_open, unlimited included.
      auto nr_open = fs::read_file("/proc/sys/fs/nr_open");
      int64_t max = nr_open ? std::atoll(nr_open->c_str()) : 0;
      if (max > 0 && s.limit.rlim_max > static_cast<rlim_t>(max)) {
        return fail(ErrorKind::kInvalidArgument, "--ulimit " + to_string(u) +
                                                     ": the hard limit is above fs.nr_open (" +
                                                     std::to_string(max) + ")");
      }
    }
    out.push_back(s);
  }
  return out;
}

Result<std::vector<Ulimit>> parse_ulimit_flags(const std::vector<std::string>& values) {
  std::vector<Ulimit> out;
  for (const auto& v : values) {
    auto parsed = parse_ulimit(v);
    if (!parsed) {
      return fail(
          ErrorKind::kInvalidArgument,
          "invalid argument \"" + v + "\" for \"--ulimit\" flag: " + parsed.error().message());
    }
    out.push_back(*parsed);
  }
  return out;
}

}  // namespace imgbuild::runtime
