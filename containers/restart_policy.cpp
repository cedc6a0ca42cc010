#include "containers/restart_policy.h"

#include <charconv>

namespace imgbuild::containers {
namespace {

constexpr std::pair<RestartMode, std::string_view> kModeNames[] = {
    {RestartMode::kNo, "no"},
    {RestartMode::kOnFailure, "on-failure"},
    {RestartMode::kAlways, "always"},
    {RestartMode::kUnlessStopped, "unless-stopped"},
};

}  // namespace

std::string_view restart_mode_name(RestartMode mode) {
  for (const auto& [value, name] : kModeNames) {
    if (value == mode) return name;
  }
  return "no";
}

std::optional<RestartMode> parse_restart_mode(std::string_view name) {
  if (name.empty()) return RestartMode::kNo;
  for (const auto& [value, word] : kModeNames) {
    if (word == name) return value;
  }
  return std::nullopt;
}

// Docker's opts.ParseRestartPolicy, then the daemon's validation.
Result<RestartPolicy> parse_restart_policy(std::string_view text) {
  size_t colon = text.find(':');
  std::string_view name = text.substr(0, colon);
  RestartPolicy policy;
  if (colon != std::string_view::npos) {
    if (name.empty()) {
      return fail(ErrorKind::kInvalidArgument,
                  "invalid restart policy format: no policy provided before colon");
    }
    std::string_view count = text.substr(colon + 1);
    auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), policy.max_retries);
    if (ec != std::errc() || end != count.data() + count.size() || count.empty()) {
      return fail(ErrorKind::kInvalidArgument,
                  "invalid restart policy format: maximum retry count must be an integer");
    }
  }
  auto mode = parse_restart_mode(name);
  if (!mode) {
    return fail(ErrorKind::kInvalidArgument,
                "invalid restart policy: unknown policy '" + std::string(name) +
                    "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
  }
  policy.mode = *mode;
  if (policy.mode != RestartMode::kOnFailure && policy.max_retries != 0) {
    return fail(ErrorKind::kInvalidArgument,
                "invalid restart policy: maximum retry count can only be used with 'on-failure'");
  }
  if (policy.max_retries < 0) {
    return fail(ErrorKind::kInvalidArgument,
                "invalid restart policy: maximum retry count cannot be negative");
  }
  return policy;
}

bool should_restart(const RestartPolicy& policy, int exit_code, int restart_count,
                    bool manually_stopped) {
  if (manually_stopped) return false;
  switch (policy.mode) {
    case RestartMode::kAlways:
    case RestartMode::kUnlessStopped: return true;
    case RestartMode::kOnFailure:
      return exit_code != 0 && (policy.max_retries == 0 || restart_count < policy.max_retries);
    case RestartMode::kNo: break;
  }
  return false;
}

std::chrono::milliseconds RestartBackoff::next(std::chrono::milliseconds ran_for) {
  if (ran_for >= kResetAfter) timeout_ = std::chrono::milliseconds(0);
  if (timeout_.count() == 0) {
    timeout_ = kInitial;
  } else if (timeout_ < kMax) {
    timeout_ *= 2;
  }
  if (timeout_ > kMax) timeout_ = kMax;
  return timeout_;
}

}  // namespace imgbuild::containers
