#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "fake_transport.h"
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

namespace {

HttpResponse answer(int status, Headers headers = {}) {
  HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  return r;
}

struct Recorder {
  std::vector<milliseconds> sleeps;
  SleepFunction sleep() {
    return [this](milliseconds d) { sleeps.push_back(d); };
  }
};

}  // namespace

TEST_CASE("retry_request retries until the answer is final, waiting between tries") {
  RetryPolicy p;
  p.base_delay = milliseconds(100);
  Recorder rec;
  std::vector<int> attempts;
  auto r = retry_request(p, rec.sleep(), [&](int attempt) {
    attempts.push_back(attempt);
    if (attempt == 1) return TryOutcome{answer(429, {{"Retry-After", "2"}}), NextStep::kRetry, ""};
    if (attempt == 2) {
      return TryOutcome{imgbuild::fail(imgbuild::ErrorKind::kNetwork, "reset"), NextStep::kRetry,
                        "reset"};
    }
    return TryOutcome{answer(200), NextStep::kReturn, ""};
  });
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(attempts == std::vector<int>{1, 2, 3});
  REQUIRE(rec.sleeps.size() == 2);
  CHECK(rec.sleeps[0] == milliseconds(2000));  // Retry-After, not backoff
  CHECK(rec.sleeps[1] >= milliseconds(100));   // second backoff: 200 ms halved plus jitter
  CHECK(rec.sleeps[1] < milliseconds(200));
}

TEST_CASE("retry_request returns the last try's result when the tries are spent") {
  RetryPolicy p;
  p.max_attempts = 3;
  Recorder rec;
  int tries = 0;
  auto r = retry_request(p, rec.sleep(), [&](int) {
    ++tries;
    return TryOutcome{imgbuild::fail(imgbuild::ErrorKind::kNetwork, "try " + std::to_string(tries)),
                      NextStep::kRetry, ""};
  });
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "try 3");
  CHECK(tries == 3);
  CHECK(rec.sleeps.size() == 2);  // no wait after the last try
}

TEST_CASE("retry_request repeats at once without spending a try") {
  RetryPolicy p;
  p.max_attempts = 2;
  Recorder rec;
  std::vector<int> attempts;
  auto r = retry_request(p, rec.sleep(), [&](int attempt) {
    attempts.push_back(attempt);
    if (attempts.size() <= 3) return TryOutcome{answer(307), NextStep::kRepeat, ""};
    return TryOutcome{answer(503), NextStep::kRetry, ""};
  });
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(attempts == std::vector<int>{1, 1, 1, 1, 2});
  CHECK(rec.sleeps.size() == 1);
}

TEST_CASE("retry_request returns a final answer at once, whatever its status") {
  Recorder rec;
  int tries = 0;
  auto r = retry_request(RetryPolicy{}, rec.sleep(), [&](int) {
    ++tries;
    return TryOutcome{answer(404), NextStep::kReturn, ""};
  });
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(tries == 1);
  CHECK(rec.sleeps.empty());
}

TEST_CASE("perform_with_retries retries every error and retryable status") {
  int calls = 0;
  imgbuild::registry::testing::FakeTransport t(
      [&](const HttpRequest&) -> imgbuild::Result<HttpResponse> {
        ++calls;
        if (calls == 1) return imgbuild::fail(imgbuild::ErrorKind::kNetwork, "refused");
        if (calls == 2) return answer(503);
        if (calls == 3) return imgbuild::fail(imgbuild::ErrorKind::kIo, "odd");
        return answer(404);
      });
  Recorder rec;
  HttpRequest req;
  req.url = "https://reg.example/v2/";
  auto r = perform_with_retries(t, req, RetryPolicy{}, rec.sleep());
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(calls == 4);
  CHECK(rec.sleeps.size() == 3);
}
