#include <catch2/catch.hpp>

#include "registry-client/retry.h"

using namespace imgbuild::registry;
using std::chrono::milliseconds;

TEST_CASE("retryable statuses are 408, 429 and transient 5xx") {
  for (int s : {408, 429, 500, 502, 503, 504}) CHECK(is_retryable_status(s));
  for (int s : {200, 400, 401, 403, 404, 416, 501}) CHECK_FALSE(is_retryable_status(s));
}

TEST_CASE("backoff doubles per attempt with jitter between half and full, capped") {
  RetryPolicy p;
  p.base_delay = milliseconds(100);
  p.max_delay = milliseconds(1000);
  CHECK(backoff_delay(p, 1, 0.0) == milliseconds(50));
  CHECK(backoff_delay(p, 1, 0.999) == milliseconds(99));
  CHECK(backoff_delay(p, 2, 0.0) == milliseconds(100));
  CHECK(backoff_delay(p, 3, 0.5) == milliseconds(300));
  CHECK(backoff_delay(p, 10, 1.0) == milliseconds(1000));
}

TEST_CASE("Retry-After accepts seconds and HTTP dates, capped by the policy") {
  std::time_t now = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(parse_retry_after("3", now) == milliseconds(3000));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now) == milliseconds(10000));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now) == milliseconds(0));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("", now));
  RetryPolicy p;
  p.max_retry_after = milliseconds(5000);
  CHECK(retry_delay(p, 1, "3600", 0.0, now) == milliseconds(5000));
  CHECK(retry_delay(p, 1, "2", 0.0, now) == milliseconds(2000));
  CHECK(retry_delay(p, 1, "garbage", 0.0, now) == backoff_delay(p, 1, 0.0));
}
