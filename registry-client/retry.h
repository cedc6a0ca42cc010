// When and how long to wait before repeating a registry request: exponential backoff with full
// jitter on 408, 429, 5xx and network errors, honouring Retry-After (seconds or an HTTP-date),
// capped so a hostile registry cannot park the client for hours; and the one loop that repeats a
// request by those rules (retry_request).
// Thread-safe: the delay functions are pure; retry_request shares nothing between calls.
#pragma once

#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "registry-client/http.h"

namespace imgbuild::registry {

struct RetryPolicy {
  int max_attempts = 5;  // total tries, including the first
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{10'000};
  std::chrono::milliseconds max_retry_after{60'000};
  // Per try: seconds to connect, and seconds without a byte moving before the try fails as a
  // network error (and is retried). Lazy reads use short ones so a stalled registry fails the
  // read within a bound (containers/lazy_mount.cpp).
  long connect_seconds = 30;
  long stall_seconds = 60;
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

// A uniform random number in [0, 1) for retry_delay's jitter.
double retry_jitter();

// What the caller of retry_request makes of one try.
enum class NextStep {
  kReturn,  // the answer (a success or a final failure): retry_request returns it
  kRetry,   // transient: wait per the policy and try again while tries are left
  kRepeat,  // try again at once without spending a try (a redirect followed, a fresh token)
};

struct TryOutcome {
  Result<HttpResponse> result;
  NextStep next = NextStep::kReturn;
  // Logged at debug level as "<note>; retrying" before a retry; "" logs nothing.
  std::string retry_note;
};

using SleepFunction = std::function<void(std::chrono::milliseconds)>;

// Calls try_once(attempt), attempt being 1 + the tries spent so far, until it says kReturn, or
// kRetry with policy.max_attempts tries spent (one try at the least); returns that try's result.
// Before each retry it calls sleep(retry_delay(policy, attempt, the response's Retry-After header
// if there is a response, retry_jitter(), now)).
Result<HttpResponse> retry_request(const RetryPolicy& policy, const SleepFunction& sleep,
                                   const std::function<TryOutcome(int attempt)>& try_once);

// retry_request for a plain request: every error and every retryable status is retried.
Result<HttpResponse> perform_with_retries(HttpTransport& transport, const HttpRequest& request,
                                          const RetryPolicy& policy, const SleepFunction& sleep);

}  // namespace imgbuild::registry
