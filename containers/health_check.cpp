#include "containers/health_check.h"

namespace imgbuild::containers {
namespace {

using std::chrono::milliseconds;

milliseconds or_default(int64_t ns, milliseconds fallback) {
  return ns > 0 ? std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds(ns)) : fallback;
}

}  // namespace

bool HealthConfig::enabled() const {
  if (test.empty() || test[0] == "NONE") return false;
  return test.size() >= 2 && (test[0] == "CMD" || test[0] == "CMD-SHELL");
}

std::vector<std::string> HealthConfig::command() const {
  if (!enabled()) return {};
  if (test[0] == "CMD-SHELL") return {"/bin/sh", "-c", test[1]};
  return {test.begin() + 1, test.end()};
}

milliseconds HealthConfig::interval() const { return or_default(interval_ns, milliseconds(30000)); }
milliseconds HealthConfig::timeout() const { return or_default(timeout_ns, milliseconds(30000)); }
milliseconds HealthConfig::start_period() const { return or_default(start_period_ns, {}); }
int HealthConfig::effective_retries() const { return retries > 0 ? retries : 3; }

Result<HealthConfig> health_config_from_json(const nlohmann::json& j) {
  try {
    HealthConfig c;
    if (j.contains("Test") && !j["Test"].is_null())
      c.test = j["Test"].get<std::vector<std::string>>();
    c.interval_ns = j.value("Interval", int64_t{0});
    c.timeout_ns = j.value("Timeout", int64_t{0});
    c.start_period_ns = j.value("StartPeriod", int64_t{0});
    c.retries = j.value("Retries", 0);
    return c;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::kInvalidArgument, std::string("invalid Healthcheck: ") + e.what());
  }
}

nlohmann::json to_json(const HealthConfig& c) {
  nlohmann::json j = {{"Test", c.test}};
  if (c.interval_ns != 0) j["Interval"] = c.interval_ns;
  if (c.timeout_ns != 0) j["Timeout"] = c.timeout_ns;
  if (c.start_period_ns != 0) j["StartPeriod"] = c.start_period_ns;
  if (c.retries != 0) j["Retries"] = c.retries;
  return j;
}

HealthConfig merge_health_config(const HealthConfig& image, const HealthConfig& container) {
  HealthConfig out = container;
  if (out.test.empty()) out.test = image.test;
  if (out.interval_ns == 0) out.interval_ns = image.interval_ns;
  if (out.timeout_ns == 0) out.timeout_ns = image.timeout_ns;
  if (out.start_period_ns == 0) out.start_period_ns = image.start_period_ns;
  if (out.retries == 0) out.retries = image.retries;
  return out;
}

void HealthState::add(HealthResult result, bool in_start_period, int retries) {
  if (result.exit_code == 0) {
    failing_streak = 0;
    status = "healthy";
  } else if (!(status == "starting" && in_start_period)) {
    ++failing_streak;
    if (failing_streak >= retries) status = "unhealthy";
  }
  if (result.output.size() > kMaxOutput) result.output.resize(kMaxOutput);
  log.push_back(std::move(result));
  if (log.size() > kMaxLog) log.erase(log.begin(), log.end() - kMaxLog);
}

nlohmann::json to_json(const HealthState& s) {
  nlohmann::json log = nlohmann::json::array();
  for (const auto& r : s.log) {
    log.push_back(
        {{"Start", r.start}, {"End", r.end}, {"ExitCode", r.exit_code}, {"Output", r.output}});
  }
  return {{"Status", s.status}, {"FailingStreak", s.failing_streak}, {"Log", log}};
}

Result<HealthState> health_state_from_json(const nlohmann::json& j) {
  try {
    HealthState s;
    s.status = j.at("Status").get<std::string>();
    s.failing_streak = j.at("FailingStreak").get<int>();
    for (const auto& r : j.at("Log")) {
      s.log.push_back({r.at("Start").get<std::string>(), r.at("End").get<std::string>(),
                       r.at("ExitCode").get<int>(), r.at("Output").get<std::string>()});
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::kCorrupt, std::string("health state: ") + e.what());
  }
}

std::string go_duration_string(milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
  std::string secs = std::to_string(s);
  if (frac != 0) {
    std::string f = std::to_string(frac + 1000).substr(1);
    while (f.back() == '0') f.pop_back();
    secs += "." + f;
  }
  if (h > 0) return std::to_string(h) + "h" + std::to_string(m) + "m" + secs + "s";
  if (m > 0) return std::to_string(m) + "m" + secs + "s";
  return secs + "s";
}

}  // namespace imgbuild::containers
