#include "containers/restart_policy.h"

#include <catch2/catch.hpp>

namespace imgbuild::containers {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("parse_restart_policy takes Docker's four policies", "[unit]") {
  CHECK(parse_restart_policy("no") == RestartPolicy{RestartMode::kNo, 0});
  CHECK(parse_restart_policy("") == RestartPolicy{RestartMode::kNo, 0});
  CHECK(parse_restart_policy("always") == RestartPolicy{RestartMode::kAlways, 0});
  CHECK(parse_restart_policy("unless-stopped") == RestartPolicy{RestartMode::kUnlessStopped, 0});
  CHECK(parse_restart_policy("on-failure") == RestartPolicy{RestartMode::kOnFailure, 0});
  CHECK(parse_restart_policy("on-failure:3") == RestartPolicy{RestartMode::kOnFailure, 3});
  CHECK(restart_mode_name(RestartMode::kUnlessStopped) == "unless-stopped");
  CHECK(parse_restart_mode("on-failure") == RestartMode::kOnFailure);
}

TEST_CASE("parse_restart_policy refuses with Docker's messages", "[unit]") {
  auto message = [](std::string_view text) {
    auto p = parse_restart_policy(text);
    REQUIRE_FALSE(p);
    return p.error().message();
  };
  CHECK(message("sometimes") ==
        "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
        "'on-failure', or 'unless-stopped'");
  CHECK(message("on-failure:x") ==
        "invalid restart policy format: maximum retry count must be an integer");
  CHECK(message("on-failure:") ==
        "invalid restart policy format: maximum retry count must be an integer");
  CHECK(message(":3") == "invalid restart policy format: no policy provided before colon");
  CHECK(message("always:2") ==
        "invalid restart policy: maximum retry count can only be used with 'on-failure'");
  CHECK(message("on-failure:-1") ==
        "invalid restart policy: maximum retry count cannot be negative");
}

TEST_CASE("should_restart follows the policy, the retry limit and a manual stop", "[unit]") {
  RestartPolicy on_failure3{RestartMode::kOnFailure, 3};
  CHECK(should_restart(on_failure3, 1, 0, false));
  CHECK(should_restart(on_failure3, 1, 2, false));
  CHECK_FALSE(should_restart(on_failure3, 1, 3, false));
  CHECK_FALSE(should_restart(on_failure3, 0, 0, false));
  CHECK(should_restart({RestartMode::kOnFailure, 0}, 2, 1000, false));
  CHECK(should_restart({RestartMode::kAlways, 0}, 0, 50, false));
  CHECK(should_restart({RestartMode::kUnlessStopped, 0}, 0, 0, false));
  CHECK_FALSE(should_restart({RestartMode::kNo, 0}, 1, 0, false));
  CHECK_FALSE(should_restart({RestartMode::kAlways, 0}, 137, 0, true));
  CHECK_FALSE(should_restart(on_failure3, 1, 0, true));
}

TEST_CASE("restart backoff doubles from 100 ms, caps at a minute, resets after 10 s", "[unit]") {
  RestartBackoff backoff;
  CHECK(backoff.next(milliseconds(5)) == milliseconds(100));
  CHECK(backoff.next(milliseconds(5)) == milliseconds(200));
  CHECK(backoff.next(seconds(9)) == milliseconds(400));
  for (int i = 0; i < 20; ++i) backoff.next(milliseconds(5));
  CHECK(backoff.next(milliseconds(5)) == milliseconds(60'000));
  CHECK(backoff.next(seconds(10)) == milliseconds(100));
  CHECK(backoff.next(milliseconds(5)) == milliseconds(200));
}

}  // namespace imgbuild::containers
