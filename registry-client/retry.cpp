#include "registry-client/retry.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <random>
#include <string>

#include "base/log.h"

namespace imgbuild::registry {

bool is_retryable_status(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double jitter) {
  int shift = std::clamp(attempt - 1, 0, 20);
  int64_t exp = policy.base_delay.count() << shift;
  exp = std::min<int64_t>(exp, policy.max_delay.count());
  double j = std::clamp(jitter, 0.0, 1.0);
  return std::chrono::milliseconds(exp / 2 +
                                   static_cast<int64_t>(static_cast<double>(exp / 2) * j));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::time_t now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return std::chrono::milliseconds::max();
    return std::chrono::seconds(std::stol(std::string(value)));
  }
  std::tm tm{};
  std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  std::time_t when = ::timegm(&tm);
  if (when <= now) return std::chrono::milliseconds(0);
  return std::chrono::seconds(when - now);
}

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempt,
                                      std::optional<std::string_view> retry_after, double jitter,
                                      std::time_t now) {
  if (retry_after) {
    if (auto d = parse_retry_after(*retry_after, now)) return std::min(*d, policy.max_retry_after);
  }
  return backoff_delay(policy, attempt, jitter);
}

double retry_jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Result<HttpResponse> retry_request(const RetryPolicy& policy, const SleepFunction& sleep,
                                   const std::function<TryOutcome(int attempt)>& try_once) {
  for (int attempt = 1;;) {
    TryOutcome outcome = try_once(attempt);
    if (outcome.next == NextStep::kReturn) return std::move(outcome.result);
    if (outcome.next == NextStep::kRepeat) continue;
    if (attempt >= policy.max_attempts) return std::move(outcome.result);
    if (!outcome.retry_note.empty()) log::debug(outcome.retry_note + "; retrying");
    auto retry_after =
        outcome.result ? outcome.result->header("Retry-After") : std::optional<std::string>();
    sleep(retry_delay(policy, attempt, retry_after, retry_jitter(), std::time(nullptr)));
    ++attempt;
  }
}

Result<HttpResponse> perform_with_retries(HttpTransport& transport, const HttpRequest& request,
                                          const RetryPolicy& policy, const SleepFunction& sleep) {
  return retry_request(policy, sleep, [&](int) {
    auto r = transport.perform(request);
    bool final = r && !is_retryable_status(r->status);
    return TryOutcome{std::move(r), final ? NextStep::kReturn : NextStep::kRetry, ""};
  });
}

}  // namespace imgbuild::registry
