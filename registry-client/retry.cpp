#include "registry-client/retry.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

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

}  // namespace imgbuild::registry
