// Docker's health checks: the configuration (an image's Healthcheck, with `run --health-*`
// flags over it), the result of one probe, and the state the results add up to, with the rules
// of Docker's daemon/health.go:
//
//   - Status starts "starting". A probe that exits 0 makes it "healthy" and the failing streak 0.
//     Any other result (a timeout is exit code -1) adds one to the failing streak, except while
//     the status is still "starting" and the probe started within the start period; once the
//     streak reaches Retries the status is "unhealthy".
//   - The log keeps the last 5 results, each output cut to 4096 bytes.
//   - Defaults: Interval 30s, Timeout 30s, StartPeriod 0, Retries 3.
//
// Pure data and rules: who runs the probe and when is the detached monitor's business.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgbuild::containers {

struct HealthConfig {
  // Docker's Test: {"CMD", ARG...}, {"CMD-SHELL", COMMAND}, {"NONE"} (disabled); {} inherits.
  std::vector<std::string> test;
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0;  // 0: the default
  int retries = 0;                                               // 0: the default
  bool operator==(const HealthConfig&) const = default;

  // True when there is a command to run (not {} or {"NONE"}).
  bool enabled() const;
  // The probe's argv: CMD's arguments, or /bin/sh -c COMMAND for CMD-SHELL.
  std::vector<std::string> command() const;
  std::chrono::milliseconds interval() const;
  std::chrono::milliseconds timeout() const;
  std::chrono::milliseconds start_period() const;
  int effective_retries() const;
};

// The image config's (and state.json's) Healthcheck object: Test, Interval, Timeout,
// StartPeriod, Retries (missing fields zero). kInvalidArgument when Test is not a string list.
Result<HealthConfig> health_config_from_json(const nlohmann::json& j);
nlohmann::json to_json(const HealthConfig& config);

// Docker's merge of the image's Healthcheck and the container's: a field set on the container
// wins, each field on its own.
HealthConfig merge_health_config(const HealthConfig& image, const HealthConfig& container);

struct HealthResult {
  std::string start, end;  // RFC 3339 with nanoseconds
  int exit_code = 0;       // -1: timed out or could not run
  std::string output;
};

struct HealthState {
  std::string status = "starting";  // "starting", "healthy", "unhealthy"
  int failing_streak = 0;
  std::vector<HealthResult> log;  // oldest first, at most kMaxLog

  static constexpr size_t kMaxLog = 5;
  static constexpr size_t kMaxOutput = 4096;

  // Adds one probe's result; in_start_period: the probe started within the start period.
  void add(HealthResult result, bool in_start_period, int retries);
};

// Docker's State.Health: {"Status", "FailingStreak", "Log": [{"Start", "End", "ExitCode",
// "Output"}]}.
nlohmann::json to_json(const HealthState& state);
Result<HealthState> health_state_from_json(const nlohmann::json& j);

// Go's Duration.String() for whole milliseconds: "30s", "1m30s", "500ms", "1h0m0s".
std::string go_duration_string(std::chrono::milliseconds d);

}  // namespace imgbuild::containers
