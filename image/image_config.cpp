#include "image/image_config.h"

#include <ctime>

#include "image/json_util.h"

namespace imgbuild::image {
namespace {

constexpr std::string_view kWhat = "image config";

using json = nlohmann::json;

json set_to_json(const std::set<std::string>& s) {
  json j = json::object();
  for (const auto& k : s) j[k] = json::object();
  return j;
}

Status get_set(const json& obj, const char* key, std::set<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_object()) {
    return json_util::corrupt(kWhat, "\"config." + std::string(key) + "\" must be an object");
  }
  for (auto e = it->begin(); e != it->end(); ++e) out.insert(e.key());
  return {};
}

Status get_optional_list(const json& obj, const char* key,
                         std::optional<std::vector<std::string>>& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  std::vector<std::string> v;
  // Docker accepted a plain string for Cmd/Entrypoint in old configs.
  if (it->is_string()) {
    v.push_back(it->get<std::string>());
  } else {
    TRY(json_util::get_string_list(obj, key, v, "image config: config"));
  }
  out = std::move(v);
  return {};
}

Result<ContainerConfig> container_config_from_json(const json& j) {
  constexpr std::string_view what = "image config: config";
  if (!j.is_object()) return json_util::corrupt(kWhat, "\"config\" must be an object");
  ContainerConfig c;
  TRY(json_util::get_string(j, "User", c.user, what));
  TRY(json_util::get_string_list(j, "Env", c.env, what));
  TRY(get_optional_list(j, "Cmd", c.cmd));
  TRY(get_optional_list(j, "Entrypoint", c.entrypoint));
  TRY(json_util::get_string(j, "WorkingDir", c.working_dir, what));
  TRY(get_set(j, "ExposedPorts", c.exposed_ports));
  TRY(get_set(j, "Volumes", c.volumes));
  TRY(json_util::get_string_map(j, "Labels", c.labels, what));
  TRY(json_util::get_string(j, "StopSignal", c.stop_signal, what));
  if (json_util::has(j, "Healthcheck")) c.healthcheck = j.at("Healthcheck");
  TRY(json_util::get_string_list(j, "Shell", c.shell, what));
  TRY(json_util::get_string_list(j, "OnBuild", c.on_build, what));
  static const std::set<std::string> known = {"User",       "Env",          "Cmd",     "Entrypoint",
                                              "WorkingDir", "ExposedPorts", "Volumes", "Labels",
                                              "StopSignal", "Healthcheck",  "Shell",   "OnBuild"};
  for (auto e = j.begin(); e != j.end(); ++e) {
    if (!known.contains(e.key())) c.extra[e.key()] = e.value();
  }
  return c;
}

json container_config_to_json(const ContainerConfig& c) {
  json j = c.extra.is_object() ? c.extra : json::object();
  if (!c.user.empty()) j["User"] = c.user;
  if (!c.env.empty()) j["Env"] = c.env;
  if (c.cmd) j["Cmd"] = *c.cmd;
  if (c.entrypoint) j["Entrypoint"] = *c.entrypoint;
  if (!c.working_dir.empty()) j["WorkingDir"] = c.working_dir;
  if (!c.exposed_ports.empty()) j["ExposedPorts"] = set_to_json(c.exposed_ports);
  if (!c.volumes.empty()) j["Volumes"] = set_to_json(c.volumes);
  if (!c.labels.empty()) j["Labels"] = c.labels;
  if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
  if (c.healthcheck) j["Healthcheck"] = *c.healthcheck;
  if (!c.shell.empty()) j["Shell"] = c.shell;
  if (!c.on_build.empty()) j["OnBuild"] = c.on_build;
  return j;
}

Result<HistoryEntry> history_from_json(const json& j, size_t i) {
  std::string what = "image config: history[" + std::to_string(i) + "]";
  if (!j.is_object()) return json_util::corrupt(what, "must be an object");
  HistoryEntry h;
  TRY(json_util::get_string(j, "created", h.created, what));
  TRY(json_util::get_string(j, "created_by", h.created_by, what));
  TRY(json_util::get_string(j, "author", h.author, what));
  TRY(json_util::get_string(j, "comment", h.comment, what));
  TRY(json_util::get_bool(j, "empty_layer", h.empty_layer, what));
  for (auto e = j.begin(); e != j.end(); ++e) {
    const std::string& k = e.key();
    if (k != "created" && k != "created_by" && k != "author" && k != "comment" &&
        k != "empty_layer") {
      h.extra[k] = e.value();
    }
  }
  return h;
}

json history_to_json(const HistoryEntry& h) {
  json j = h.extra.is_object() ? h.extra : json::object();
  if (!h.created.empty()) j["created"] = h.created;
  if (!h.created_by.empty()) j["created_by"] = h.created_by;
  if (!h.author.empty()) j["author"] = h.author;
  if (!h.comment.empty()) j["comment"] = h.comment;
  if (h.empty_layer) j["empty_layer"] = true;
  return j;
}

}  // namespace

std::optional<std::string> ContainerConfig::env_value(std::string_view key) const {
  for (const auto& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      return e.substr(key.size() + 1);
    }
    if (e == key) return std::string();
  }
  return std::nullopt;
}

void ContainerConfig::set_env(std::string_view key, std::string_view value) {
  std::string entry = std::string(key) + "=" + std::string(value);
  for (auto& e : env) {
    if ((e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') ||
        e == key) {
      e = entry;
      return;
    }
  }
  env.push_back(std::move(entry));
}

Result<ImageConfig> ImageConfig::parse(std::string_view bytes) {
  json j = TRY(json_util::parse(bytes, kWhat));
  return from_json(j);
}

Result<ImageConfig> ImageConfig::from_json(const json& j) {
  if (!j.is_object()) return json_util::corrupt(kWhat, "expected a JSON object");
  ImageConfig c;
  TRY(json_util::get_string(j, "created", c.created, kWhat));
  TRY(json_util::get_string(j, "author", c.author, kWhat));
  TRY(json_util::get_string(j, "architecture", c.architecture, kWhat));
  TRY(json_util::get_string(j, "os", c.os, kWhat));
  TRY(json_util::get_string(j, "variant", c.variant, kWhat));
  TRY(json_util::get_string(j, "os.version", c.os_version, kWhat));
  if (json_util::has(j, "config")) c.config = TRY(container_config_from_json(j.at("config")));
  if (json_util::has(j, "rootfs")) {
    const auto& rootfs = j.at("rootfs");
    if (!rootfs.is_object()) return json_util::corrupt(kWhat, "\"rootfs\" must be an object");
    TRY(json_util::get_string(rootfs, "type", c.rootfs_type, "image config: rootfs"));
    std::vector<std::string> ids;
    TRY(json_util::get_string_list(rootfs, "diff_ids", ids, "image config: rootfs"));
    for (size_t i = 0; i < ids.size(); ++i) {
      auto d = Digest::parse(ids[i]);
      if (!d) {
        return json_util::corrupt(
            kWhat, "rootfs.diff_ids[" + std::to_string(i) + "]: " + d.error().message());
      }
      c.diff_ids.push_back(*d);
    }
  }
  if (json_util::has(j, "history")) {
    const auto& hist = j.at("history");
    if (!hist.is_array()) return json_util::corrupt(kWhat, "\"history\" must be an array");
    for (size_t i = 0; i < hist.size(); ++i)
      c.history.push_back(TRY(history_from_json(hist[i], i)));
  }
  static const std::set<std::string> known = {"created", "author",  "architecture",
                                              "os",      "variant", "os.version",
                                              "config",  "rootfs",  "history"};
  for (auto e = j.begin(); e != j.end(); ++e) {
    if (!known.contains(e.key())) c.extra[e.key()] = e.value();
  }
  return c;
}

json ImageConfig::to_json() const {
  json j = extra.is_object() ? extra : json::object();
  if (!created.empty()) j["created"] = created;
  if (!author.empty()) j["author"] = author;
  j["architecture"] = architecture;
  j["os"] = os;
  if (!variant.empty()) j["variant"] = variant;
  if (!os_version.empty()) j["os.version"] = os_version;
  j["config"] = container_config_to_json(config);
  json ids = json::array();
  for (const auto& d : diff_ids) ids.push_back(d.str());
  j["rootfs"] = json{{"type", rootfs_type}, {"diff_ids", std::move(ids)}};
  if (!history.empty()) {
    json h = json::array();
    for (const auto& e : history) h.push_back(history_to_json(e));
    j["history"] = std::move(h);
  }
  return j;
}

std::string ImageConfig::serialize() const { return json_util::dump(to_json()); }

Platform ImageConfig::platform() const {
  Platform p;
  p.os = os;
  p.architecture = architecture;
  p.variant = variant;
  p.os_version = os_version;
  return p;
}

size_t ImageConfig::non_empty_history_count() const {
  size_t n = 0;
  for (const auto& h : history) n += h.empty_layer ? 0 : 1;
  return n;
}

std::string rfc3339_utc(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string rfc3339_now() { return rfc3339_utc(static_cast<int64_t>(std::time(nullptr))); }

std::optional<int64_t> parse_rfc3339(std::string_view s) {
  auto num = [&](size_t pos, size_t len, int& out) {
    if (pos + len > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
  };
  struct tm tm {};
  int year, mon, day, hour, min, sec;
  if (!num(0, 4, year) || s.size() < 19 || s[4] != '-' || !num(5, 2, mon) || s[7] != '-' ||
      !num(8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !num(11, 2, hour) ||
      s[13] != ':' || !num(14, 2, min) || s[16] != ':' || !num(17, 2, sec)) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!num(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !num(pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return static_cast<int64_t>(::timegm(&tm)) - offset;
}

}  // namespace imgbuild::image
