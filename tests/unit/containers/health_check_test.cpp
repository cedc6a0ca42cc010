#include "containers/health_check.h"

#include <catch2/catch.hpp>

namespace imgbuild::containers {

using std::chrono::milliseconds;

namespace {

HealthResult result(int code, std::string output = "") {
  return {"2024-01-01T00:00:00.000000000Z", "2024-01-01T00:00:01.000000000Z", code,
          std::move(output)};
}

}  // namespace

TEST_CASE("health config: commands, defaults and Docker's merge", "[unit]") {
  HealthConfig shell{{"CMD-SHELL", "curl -f localhost"}};
  CHECK(shell.enabled());
  CHECK(shell.command() == std::vector<std::string>{"/bin/sh", "-c", "curl -f localhost"});
  CHECK(HealthConfig{{"CMD", "true", "x"}}.command() == std::vector<std::string>{"true", "x"});
  CHECK_FALSE(HealthConfig{{"NONE"}}.enabled());
  CHECK_FALSE(HealthConfig{}.enabled());
  CHECK(shell.interval() == milliseconds(30000));
  CHECK(shell.timeout() == milliseconds(30000));
  CHECK(shell.start_period() == milliseconds(0));
  CHECK(shell.effective_retries() == 3);

  auto image = health_config_from_json(
      {{"Test", {"CMD", "a"}}, {"Interval", 5'000'000'000}, {"Retries", 2}});
  REQUIRE(image);
  HealthConfig flags;
  flags.timeout_ns = 1'000'000'000;
  HealthConfig merged = merge_health_config(*image, flags);
  CHECK(merged.test == std::vector<std::string>{"CMD", "a"});
  CHECK(merged.interval() == milliseconds(5000));
  CHECK(merged.timeout() == milliseconds(1000));
  CHECK(merged.retries == 2);
  CHECK(health_config_from_json(to_json(merged)) == merged);
  CHECK(merge_health_config(*image, HealthConfig{{"NONE"}}).enabled() == false);
}

TEST_CASE("health state follows Docker's streak rules and keeps five results", "[unit]") {
  HealthState s;
  CHECK(s.status == "starting");
  s.add(result(1), /*in_start_period=*/true, 2);
  CHECK(s.status == "starting");
  CHECK(s.failing_streak == 0);
  s.add(result(1), false, 2);
  CHECK(s.status == "starting");
  CHECK(s.failing_streak == 1);
  s.add(result(-1, "Health check exceeded timeout (1s)"), false, 2);
  CHECK(s.status == "unhealthy");
  CHECK(s.failing_streak == 2);
  s.add(result(0, "ok\n"), false, 2);
  CHECK(s.status == "healthy");
  CHECK(s.failing_streak == 0);
  // A failure once healthy counts even within the start period.
  s.add(result(1), true, 2);
  CHECK(s.status == "healthy");
  CHECK(s.failing_streak == 1);
  s.add(result(0, std::string(5000, 'x')), false, 2);
  CHECK(s.log.size() == 5);
  CHECK(s.log.back().output.size() == 4096);
  CHECK(s.log.front().exit_code == 1);
  auto j = to_json(s);
  CHECK(j["Status"] == "healthy");
  CHECK(j["Log"][2]["Output"] == "ok\n");
  auto back = health_state_from_json(j);
  REQUIRE(back);
  CHECK(back->log.size() == 5);
  CHECK(back->failing_streak == 0);
}

TEST_CASE("go_duration_string prints as Go's Duration.String", "[unit]") {
  CHECK(go_duration_string(milliseconds(30000)) == "30s");
  CHECK(go_duration_string(milliseconds(500)) == "500ms");
  CHECK(go_duration_string(milliseconds(90000)) == "1m30s");
  CHECK(go_duration_string(milliseconds(1500)) == "1.5s");
  CHECK(go_duration_string(milliseconds(3600000)) == "1h0m0s");
}

}  // namespace imgbuild::containers
