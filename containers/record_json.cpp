#include "containers/record_json.h"

#include <utility>

namespace imgbuild::containers {
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

}  // namespace

json record_to_json(const ContainerRecord& r) {
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
            {"restart_policy", restart_mode_name(r.restart_policy.mode)},
            {"restart_max_retries", r.restart_policy.max_retries},
            {"restart_count", r.restart_count},
            {"healthcheck", r.health ? to_json(*r.health) : json(nullptr)},
            {"lowers", r.lowers},
            {"spec", spec_to_json(r.spec)},
            {"ports", ports_to_json(r.ports)}};
  if (!r.labels.empty()) j["labels"] = r.labels;
  if (!r.volumes.empty()) j["volumes"] = r.volumes;
  if (!r.lazy_source.empty()) j["lazy_source"] = r.lazy_source;
  return j;
}

Result<ContainerRecord> record_from_json(std::string_view text) {
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
    auto mode = parse_restart_mode(j.value("restart_policy", "no"));
    if (!mode) return fail(ErrorKind::kCorrupt, "unknown restart policy");
    r.restart_policy = {*mode, j.value("restart_max_retries", 0)};
    r.restart_count = j.value("restart_count", 0);
    if (j.contains("healthcheck") && !j["healthcheck"].is_null()) {
      r.health = TRY(health_config_from_json(j["healthcheck"]));
    }
    r.lowers = j.at("lowers").get<std::vector<std::string>>();
    r.spec = spec_from_json(j.at("spec"));
    if (j.contains("ports")) r.ports = ports_from_json(j.at("ports"));
    r.labels = j.value("labels", std::map<std::string, std::string>{});
    r.volumes = j.value("volumes", std::vector<std::string>{});
    r.lazy_source = j.value("lazy_source", "");
    return r;
  } catch (const json::exception& e) {
    return fail(ErrorKind::kCorrupt, e.what());
  }
}

}  // namespace imgbuild::containers
