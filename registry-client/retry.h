// When and how long to wait before repeating a registry request: exponential backoff with full
// jitter on 408, 429, 5xx and network errors, honouring Retry-After (seconds or an HTTP-date),
// capped so a hostile registry cannot park the client for hours.
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <ctime>
#include <optional>
#include <string_view>

namespace imgbuild::registry {

struct RetryPolicy {
  int max_attempts = 5;  // total tries, including the first
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{10'000};
  std::chrono::milliseconds max_retry_after{60'000};
};

bool is_retryable_status(int status);

// Delay before try number `attempt` (1 = the first retry), given a uniform random jitter in
// [0, 1): half the exponential delay plus up to another half, so parallel clients spread out.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double jitter);

// Parses a Retry-After value: delta-seconds or an IMF-fixdate relative to now. nullopt when
// malformed. Negative (past) dates give zero.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, std::time_t now);

// The delay to use: Retry-After (capped) when present and valid, otherwise backoff.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempt,
                                      std::optional<std::string_view> retry_after, double jitter,
                                      std::time_t now);

}  // namespace imgbuild::registry
