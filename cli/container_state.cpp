#include "cli/container_state.h"

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/random_id.h"
#include "base/sys.h"
#include "fs/mount.h"
#include "runtime/cgroup.h"

namespace imgbuild::cli {
namespace {

using nlohmann::json;

json spec_to_json(const runtime::ProcessSpec& s) {
  json mounts = json::array();
  for (const auto& m : s.mounts) {
    mounts.push_back({{"source", m.source}, {"target", m.target}, {"read_only", m.read_only}});
  }
  json res = json::object();
  if (s.resources.memory_bytes) res["memory"] = *s.resources.memory_bytes;
  if (s.resources.pids_limit) res["pids"] = *s.resources.pids_limit;
  if (s.resources.cpus) res["cpus"] = *s.resources.cpus;
  json out = {{"args", s.args},         {"env", s.env},
              {"cwd", s.cwd},           {"uid", s.uid},
              {"gid", s.gid},           {"additional_gids", s.additional_gids},
              {"hostname", s.hostname}, {"network", runtime::network_mode_name(s.network)},
              {"mounts", mounts},       {"read_only_rootfs", s.read_only_rootfs},
              {"seccomp", s.seccomp},   {"tty", s.tty},
              {"resources", res}};
  if (s.capabilities) out["capabilities"] = *s.capabilities;
  json tmpfs = json::array();
  for (const auto& m : s.tmpfs_mounts)
    tmpfs.push_back({{"target", m.target}, {"size", m.size_bytes}});
  out["tmpfs"] = tmpfs;
  if (s.init) out["init"] = true;
  json ulimits = json::array();
  for (const auto& u : s.ulimits)
    ulimits.push_back({{"name", u.name}, {"soft", u.soft}, {"hard", u.hard}});
  if (!s.ulimits.empty()) out["ulimits"] = ulimits;
  if (s.shm_size_bytes != 0) out["shm_size"] = s.shm_size_bytes;
  if (!s.extra_hosts.empty()) out["extra_hosts"] = s.extra_hosts;
  return out;
}

runtime::ProcessSpec spec_from_json(const json& j) {
  runtime::ProcessSpec s;
  s.args = j.at("args").get<std::vector<std::string>>();
  s.env = j.at("env").get<std::vector<std::string>>();
  s.cwd = j.at("cwd").get<std::string>();
  s.uid = j.at("uid").get<uint32_t>();
  s.gid = j.at("gid").get<uint32_t>();
  s.additional_gids = j.at("additional_gids").get<std::vector<uint32_t>>();
  s.hostname = j.at("hostname").get<std::string>();
  s.network = runtime::parse_network_mode(j.at("network").get<std::string>())
                  .value_or(runtime::NetworkMode::kNone);
  for (const auto& m : j.at("mounts")) {
    s.mounts.push_back({m.at("source").get<std::string>(), m.at("target").get<std::string>(),
                        m.at("read_only").get<bool>()});
  }
  s.read_only_rootfs = j.at("read_only_rootfs").get<bool>();
  s.seccomp = j.value("seccomp", true);  // records from before seccomp: the default
  s.tty = j.at("tty").get<bool>();
  s.init = j.value("init", false);
  if (j.contains("capabilities")) s.capabilities = j["capabilities"].get<std::vector<int>>();
  if (j.contains("tmpfs")) {
    for (const auto& m : j["tmpfs"]) {
      s.tmpfs_mounts.push_back({m.at("target").get<std::string>(), m.at("size").get<uint64_t>()});
    }
  }
  for (const auto& u : j.value("ulimits", json::array())) {
    s.ulimits.push_back({u.at("name").get<std::string>(), u.at("soft").get<int64_t>(),
                         u.at("hard").get<int64_t>()});
  }
  s.shm_size_bytes = j.value("shm_size", uint64_t{0});
  s.extra_hosts = j.value("extra_hosts", std::vector<std::string>{});
  const json& r = j.at("resources");
  if (r.contains("memory")) s.resources.memory_bytes = r["memory"].get<int64_t>();
  if (r.contains("pids")) s.resources.pids_limit = r["pids"].get<int64_t>();
  if (r.contains("cpus")) s.resources.cpus = r["cpus"].get<double>();
  return s;
}

json ports_to_json(const std::vector<runtime::PortMapping>& ports) {
  json out = json::array();
  for (const auto& p : ports) {
    out.push_back({{"host_ip", p.host_ip},
                   {"host_port", p.host_port},
                   {"container_port", p.container_port},
                   {"protocol", runtime::protocol_name(p.protocol)}});
  }
  return out;
}

std::vector<runtime::PortMapping> ports_from_json(const json& j) {
  std::vector<runtime::PortMapping> out;
  for (const auto& p : j) {
    runtime::PortMapping m;
    m.host_ip = p.at("host_ip").get<std::string>();
    m.host_port = p.at("host_port").get<uint16_t>();
    m.container_port = p.at("container_port").get<uint16_t>();
    m.protocol = p.at("protocol") == "udp" ? runtime::Protocol::kUdp : runtime::Protocol::kTcp;
    out.push_back(std::move(m));
  }
  return out;
}

// state.json's words, one table for both directions.
constexpr std::pair<ContainerStatus, std::string_view> kStatusWords[] = {
    {ContainerStatus::kCreated, "created"},
    {ContainerStatus::kRunning, "running"},
    {ContainerStatus::kRestarting, "restarting"},
    {ContainerStatus::kExited, "exited"},
};

}  // namespace

std::string container_dir(const image::Store& store, const std::string& id) {
  return fs::join(store.containers_dir(), id);
}

std::string container_rootfs(const image::Store& store, const std::string& id) {
  return fs::join(container_dir(store, id), "rootfs");
}

namespace {
std::string stop_marker(const image::Store& store, const std::string& id) {
  return fs::join(container_dir(store, id), "stop-requested");
}
}  // namespace

std::string_view to_string(ContainerStatus status) {
  for (const auto& [value, word] : kStatusWords) {
    if (value == status) return word;
  }
  return "exited";
}

std::optional<ContainerStatus> parse_container_status(std::string_view text) {
  for (const auto& [value, word] : kStatusWords) {
    if (word == text) return value;
  }
  return std::nullopt;
}

Status save_record(const image::Store& store, const ContainerRecord& r) {
  json j = {{"id", r.id},
            {"name", r.name},
            {"image", r.image},
            {"image_id", r.image_id},
            {"manifest_digest", r.manifest_digest},
            {"created", r.created},
            {"started", r.started},
            {"status", to_string(r.status)},
            {"monitor_pid", r.monitor_pid},
            {"container_pid", r.container_pid},
            {"exit_code", r.exit_code},
            {"finished", r.finished},
            {"stop_signal", r.stop_signal},
            {"stop_timeout", r.stop_timeout},
            {"auto_remove", r.auto_remove},
            {"detached", r.detached},
            {"restart_policy", containers::restart_mode_name(r.restart_policy.mode)},
            {"restart_max_retries", r.restart_policy.max_retries},
            {"restart_count", r.restart_count},
            {"healthcheck", r.health ? containers::to_json(*r.health) : json(nullptr)},
            {"lowers", r.lowers},
            {"spec", spec_to_json(r.spec)},
            {"ports", ports_to_json(r.ports)}};
  if (!r.labels.empty()) j["labels"] = r.labels;
  if (!r.volumes.empty()) j["volumes"] = r.volumes;
  // Replaced by rename so readers never see half a record; not fsynced: a container's state
  // does not outlive a machine crash anyway (its processes and mount are gone).
  std::string path = fs::join(container_dir(store, r.id), "state.json");
  std::string tmp = path + ".tmp";
  {
    UniqueFd fd = TRY(sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    TRY(sys::write_all(fd.get(), j.dump(2) + "\n", tmp));
  }
  return sys::rename_at(AT_FDCWD, tmp, AT_FDCWD, path);
}

Error UnreadableRecord::error(const image::Store& store) const {
  return cause.with_context("container " + id + ": unreadable record " +
                            fs::join(container_dir(store, id), "state.json"));
}

Result<ContainerRecord> load_record(const image::Store& store, const std::string& id) {
  std::string text = TRY(fs::read_file(fs::join(container_dir(store, id), "state.json")));
  try {
    json j = json::parse(text);
    ContainerRecord r;
    r.id = j.at("id").get<std::string>();
    r.name = j.at("name").get<std::string>();
    r.image = j.at("image").get<std::string>();
    r.image_id = j.at("image_id").get<std::string>();
    r.manifest_digest = j.at("manifest_digest").get<std::string>();
    r.created = j.at("created").get<std::string>();
    auto status = j.at("status").get<std::string>();
    auto parsed_status = parse_container_status(status);
    if (!parsed_status) return fail(ErrorKind::kCorrupt, "unknown status \"" + status + "\"");
    r.status = *parsed_status;
    r.monitor_pid = j.at("monitor_pid").get<pid_t>();
    r.container_pid = j.at("container_pid").get<pid_t>();
    r.exit_code = j.at("exit_code").get<int>();
    r.finished = j.at("finished").get<std::string>();
    r.stop_signal = j.at("stop_signal").get<std::string>();
    r.stop_timeout = j.value("stop_timeout", -1);
    r.auto_remove = j.at("auto_remove").get<bool>();
    r.detached = j.at("detached").get<bool>();
    r.started = j.value("started", "");
    auto mode = containers::parse_restart_mode(j.value("restart_policy", "no"));
    if (!mode) return fail(ErrorKind::kCorrupt, "unknown restart policy");
    r.restart_policy = {*mode, j.value("restart_max_retries", 0)};
    r.restart_count = j.value("restart_count", 0);
    if (j.contains("healthcheck") && !j["healthcheck"].is_null()) {
      r.health = TRY(containers::health_config_from_json(j["healthcheck"]));
    }
    r.lowers = j.at("lowers").get<std::vector<std::string>>();
    r.spec = spec_from_json(j.at("spec"));
    if (j.contains("ports")) r.ports = ports_from_json(j.at("ports"));
    r.labels = j.value("labels", std::map<std::string, std::string>{});
    r.volumes = j.value("volumes", std::vector<std::string>{});
    if (r.id != id) return fail(ErrorKind::kCorrupt, "records the id " + r.id);
    return r;
  } catch (const json::exception& e) {
    return fail(ErrorKind::kCorrupt, e.what());
  }
}

Result<ContainerList> list_records(const image::Store& store) {
  ContainerList out;
  for (const auto& id : TRY(fs::list_dir(store.containers_dir(), fs::MissingDir::kIsEmpty))) {
    if (id[0] == '.') continue;
    auto r = load_record(store, id);
    if (r) {
      out.records.push_back(std::move(*r));
    } else if (r.error().errno_value() != ENOENT) {
      out.unreadable.push_back({id, std::move(r).error()});
    }
  }
  std::sort(
      out.records.begin(), out.records.end(),
      [](const ContainerRecord& a, const ContainerRecord& b) { return a.created < b.created; });
  std::sort(out.unreadable.begin(), out.unreadable.end(),
            [](const UnreadableRecord& a, const UnreadableRecord& b) { return a.id < b.id; });
  return out;
}

Result<std::variant<ContainerRecord, UnreadableRecord>> find_any_record(
    const image::Store& store, const std::string& name_or_id) {
  auto all = TRY(list_records(store));
  for (auto& r : all.records) {
    if (r.name == name_or_id || r.id == name_or_id) return std::move(r);
  }
  for (auto& u : all.unreadable) {
    if (u.id == name_or_id) return std::move(u);
  }
  std::optional<std::variant<ContainerRecord, UnreadableRecord>> match;
  auto consider = [&](const std::string& id, auto&& candidate) -> Status {
    if (name_or_id.empty() || id.compare(0, name_or_id.size(), name_or_id) != 0) return {};
    if (match) {
      return fail(ErrorKind::kInvalidArgument,
                  "multiple containers match the prefix " + name_or_id);
    }
    match = std::move(candidate);
    return {};
  };
  for (auto& r : all.records) TRY(consider(r.id, r));
  for (auto& u : all.unreadable) TRY(consider(u.id, u));
  if (match) return std::move(*match);
  std::string message = "No such container: " + name_or_id;
  if (!all.unreadable.empty()) {
    message += " (" + std::to_string(all.unreadable.size()) +
               " unreadable container record(s) not searched, see imgbuild ps -a)";
  }
  return fail(ErrorKind::kNotFound, message);
}

Result<ContainerRecord> find_record(const image::Store& store, const std::string& name_or_id) {
  auto found = TRY(find_any_record(store, name_or_id));
  if (auto* u = std::get_if<UnreadableRecord>(&found)) return fail(u->error(store));
  return std::get<ContainerRecord>(std::move(found));
}

bool is_running(const ContainerRecord& r) {
  if (r.status != ContainerStatus::kRunning || r.monitor_pid <= 0) return false;
  return ::kill(r.monitor_pid, 0) == 0 || errno == EPERM;
}

bool is_restarting(const ContainerRecord& r) {
  if (r.status != ContainerStatus::kRestarting || r.monitor_pid <= 0) return false;
  return ::kill(r.monitor_pid, 0) == 0 || errno == EPERM;
}

ContainerStatus observed_status(const ContainerRecord& r) {
  if (is_running(r)) return ContainerStatus::kRunning;
  if (is_restarting(r)) return ContainerStatus::kRestarting;
  return r.status == ContainerStatus::kCreated ? ContainerStatus::kCreated
                                               : ContainerStatus::kExited;
}

Status save_health(const image::Store& store, const std::string& id,
                   const containers::HealthState& state) {
  return fs::write_file_atomic(fs::join(container_dir(store, id), "health.json"),
                               containers::to_json(state).dump() + "\n");
}

std::optional<containers::HealthState> load_health(const image::Store& store,
                                                   const std::string& id) {
  auto text = fs::read_file(fs::join(container_dir(store, id), "health.json"));
  if (!text) return std::nullopt;
  try {
    auto state = containers::health_state_from_json(json::parse(*text));
    if (state) return std::move(*state);
  } catch (const json::exception&) {
  }
  return std::nullopt;
}

Status request_stop(const image::Store& store, const std::string& id) {
  TRY(sys::open(stop_marker(store, id), O_WRONLY | O_CREAT, 0644));
  return {};
}

bool stop_requested(const image::Store& store, const std::string& id) {
  return fs::exists(stop_marker(store, id));
}

Status clear_stop_request(const image::Store& store, const std::string& id) {
  if (::unlink(stop_marker(store, id).c_str()) < 0 && errno != ENOENT) {
    return fail_errno("unlink", stop_marker(store, id));
  }
  return {};
}

Result<std::string> new_container_id() { return random_hex(32); }

std::string new_container_name(const image::Store& store) {
  static const char* kAdjectives[] = {"brave", "calm", "eager", "fervent", "gentle", "happy",
                                      "jolly", "keen", "lucid", "nifty",   "quirky", "sharp"};
  static const char* kNames[] = {"babbage",  "curie",   "dijkstra", "euler",    "hopper", "knuth",
                                 "lovelace", "noether", "ritchie",  "thompson", "turing", "wirth"};
  auto all = list_records(store).value_or(ContainerList{}).records;
  for (int attempt = 0;; ++attempt) {
    auto id = new_container_id();
    std::string seed = id ? *id : std::to_string(::getpid() + attempt);
    unsigned a = static_cast<unsigned>(seed[0]) % 12, n = static_cast<unsigned>(seed[1]) % 12;
    std::string name = std::string(kAdjectives[a]) + "_" + kNames[n];
    if (attempt > 20) name += "_" + seed.substr(0, 4);
    bool taken = std::any_of(all.begin(), all.end(),
                             [&](const ContainerRecord& r) { return r.name == name; });
    if (!taken) return name;
  }
}

Status remove_container_files(const image::Store& store, const std::string& id) {
  std::string rootfs = container_rootfs(store, id);
  auto unmounted = fs::force_unmount(rootfs);
  if (!unmounted && unmounted.error().kind() != ErrorKind::kNotFound) return unmounted;
  runtime::Cgroup::remove_stale("imgbuild-" + id);
  return fs::remove_tree(container_dir(store, id));
}

Result<int64_t> parse_size(const std::string& text) {
  if (text.empty()) return fail(ErrorKind::kInvalidArgument, "invalid size: ''");
  size_t end = 0;
  double value = 0;
  try {
    value = std::stod(text, &end);
  } catch (const std::exception&) {
    return fail(ErrorKind::kInvalidArgument, "invalid size: '" + text + "'");
  }
  std::string unit = text.substr(end);
  std::transform(unit.begin(), unit.end(), unit.begin(), ::tolower);
  if (!unit.empty() && unit.back() == 'b' && unit.size() == 2) unit.pop_back();
  double mult = 1;
  if (unit == "" || unit == "b") {
    mult = 1;
  } else if (unit == "k") {
    mult = 1024.0;
  } else if (unit == "m") {
    mult = 1024.0 * 1024;
  } else if (unit == "g") {
    mult = 1024.0 * 1024 * 1024;
  } else if (unit == "t") {
    mult = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return fail(ErrorKind::kInvalidArgument, "invalid size: '" + text + "'");
  }
  if (value < 0) return fail(ErrorKind::kInvalidArgument, "invalid size: '" + text + "'");
  return static_cast<int64_t>(std::llround(value * mult));
}

Result<int> parse_signal(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit)) {
    int n = std::atoi(text.c_str());
    if (n > 0 && n < NSIG) return n;
  }
  std::string name = text;
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    if (abbrev != nullptr && name == abbrev) return sig;
  }
  return fail(ErrorKind::kInvalidArgument, "invalid signal: " + text);
}

std::string human_duration(int64_t s) {
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return std::to_string(s) + " seconds";
  int64_t m = s / 60;
  if (m == 1) return "About a minute";
  if (m < 60) return std::to_string(m) + " minutes";
  int64_t h = s / 3600;
  if (h == 1) return "About an hour";
  if (h < 48) return std::to_string(h) + " hours";
  if (h < 24 * 7 * 2) return std::to_string(h / 24) + " days";
  if (h < 24 * 30 * 2) return std::to_string(h / 24 / 7) + " weeks";
  if (h < 24 * 365 * 2) return std::to_string(h / 24 / 30) + " months";
  return std::to_string(h / 24 / 365) + " years";
}

}  // namespace imgbuild::cli
