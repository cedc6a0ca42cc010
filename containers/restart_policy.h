// Docker's restart policies (`run --restart no|on-failure[:N]|always|unless-stopped`) and the
// restart manager's decision and backoff, as daemon/restartmanager does them: a pure model, with
// no clock or process of its own, used by the detached monitor (which sleeps and restarts).
//
//   - always: restart after any exit; unless-stopped: the same (the two differ only across a
//     daemon restart, which imgbuild has not); on-failure[:N]: after a non-zero exit, at most N
//     times (0 or none: no limit); no: never.
//   - A manual stop (`stop`, `kill`) ends the restarting whatever the policy.
//   - Backoff before each restart: 100 ms, doubling, capped at 1 minute; back to 100 ms when the
//     container had run for at least 10 s.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace imgbuild::containers {

enum class RestartMode { kNo, kOnFailure, kAlways, kUnlessStopped };

struct RestartPolicy {
  RestartMode mode = RestartMode::kNo;
  int max_retries = 0;  // on-failure only; 0: no limit
  bool operator==(const RestartPolicy&) const = default;
};

// "no", "always", "unless-stopped", "on-failure", "on-failure:N"; "" is "no". kInvalidArgument
// with Docker's messages otherwise.
Result<RestartPolicy> parse_restart_policy(std::string_view text);

// Docker's HostConfig.RestartPolicy.Name: "no", "on-failure", "always", "unless-stopped".
std::string_view restart_mode_name(RestartMode mode);
// The inverse of restart_mode_name (also "" for "no").
std::optional<RestartMode> parse_restart_mode(std::string_view name);

// Whether a container that exited with exit_code, after restart_count restarts so far, is started
// again (the caller then counts one more restart).
bool should_restart(const RestartPolicy& policy, int exit_code, int restart_count,
                    bool manually_stopped);

class RestartBackoff {
 public:
  static constexpr std::chrono::milliseconds kInitial{100};
  static constexpr std::chrono::milliseconds kMax{60'000};
  static constexpr std::chrono::seconds kResetAfter{10};

  // The wait before the next restart of a container that ran for ran_for.
  std::chrono::milliseconds next(std::chrono::milliseconds ran_for);

 private:
  std::chrono::milliseconds timeout_{0};
};

}  // namespace imgbuild::containers
