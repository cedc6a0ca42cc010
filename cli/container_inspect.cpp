#include "cli/container_inspect.h"

#include "base/fs.h"
#include "containers/volumes.h"
#include "runtime/port_mapping.h"

namespace imgbuild::cli {
namespace {

using Json = nlohmann::json;

Json port_bindings(const ContainerRecord& r) {
  Json out = Json::object();
  for (const auto& p : r.ports) {
    Json& list = out[runtime::container_side(p)];
    if (!list.is_array()) list = Json::array();
    list.push_back({{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip},
                    {"HostPort", p.host_port == 0 ? "" : std::to_string(p.host_port)}});
  }
  return out;
}

Json mounts(const image::Store& store, const ContainerRecord& r) {
  Json out = Json::array();
  for (const auto& m : r.spec.mounts) {
    Json j = {{"Type", "bind"},          {"Source", m.source},
              {"Destination", m.target}, {"Mode", m.read_only ? "ro" : ""},
              {"RW", !m.read_only},      {"Propagation", "rprivate"}};
    for (const auto& v : r.volumes) {
      if (m.source == fs::join(fs::join(containers::volumes_dir(store), v), "_data")) {
        j = {{"Type", "volume"},        {"Name", v},         {"Source", m.source},
             {"Destination", m.target}, {"Driver", "local"}, {"Mode", m.read_only ? "ro" : "z"},
             {"RW", !m.read_only},      {"Propagation", ""}};
      }
    }
    out.push_back(std::move(j));
  }
  for (const auto& t : r.spec.tmpfs_mounts) {
    out.push_back({{"Type", "tmpfs"},
                   {"Source", ""},
                   {"Destination", t.target},
                   {"Mode", ""},
                   {"RW", true},
                   {"Propagation", ""}});
  }
  return out;
}

// Docker's HostConfig.Ulimits: [{"Name": "nofile", "Hard": 2048, "Soft": 1024}], null when none.
Json ulimits(const runtime::ProcessSpec& spec) {
  if (spec.ulimits.empty()) return nullptr;
  Json out = Json::array();
  for (const auto& u : spec.ulimits) {
    out.push_back({{"Name", u.name}, {"Hard", u.hard}, {"Soft", u.soft}});
  }
  return out;
}

}  // namespace

Json describe_container(const image::Store& store, const ContainerRecord& r) {
  const auto& spec = r.spec;
  ContainerStatus status = observed_status(r);
  bool running = status == ContainerStatus::kRunning;
  bool restarting = status == ContainerStatus::kRestarting;
  Json args = Json::array();
  for (size_t i = 1; i < spec.args.size(); ++i) args.push_back(spec.args[i]);
  Json exposed = Json::object();
  for (const auto& p : r.ports) exposed[runtime::container_side(p)] = Json::object();
  std::string dir = container_dir(store, r.id);
  std::string user;
  if (spec.uid != 0 || spec.gid != 0) {
    user = std::to_string(spec.uid) + ":" + std::to_string(spec.gid);
  }
  Json host_config = {
      {"NetworkMode", runtime::network_mode_name(spec.network)},
      {"PortBindings", port_bindings(r)},
      {"AutoRemove", r.auto_remove},
      {"ReadonlyRootfs", spec.read_only_rootfs},
      {"Memory", spec.resources.memory_bytes.value_or(0)},
      {"PidsLimit", spec.resources.pids_limit ? Json(*spec.resources.pids_limit) : Json(nullptr)},
      {"NanoCpus", static_cast<int64_t>(spec.resources.cpus.value_or(0) * 1e9)},
      {"Init", spec.init ? Json(true) : Json(nullptr)},
      {"RestartPolicy",
       {{"Name", std::string(containers::restart_mode_name(r.restart_policy.mode))},
        {"MaximumRetryCount", r.restart_policy.max_retries}}},
      {"ShmSize",
       spec.shm_size_bytes == 0 ? int64_t{64} << 20 : static_cast<int64_t>(spec.shm_size_bytes)},
      {"ExtraHosts", spec.extra_hosts.empty() ? Json(nullptr) : Json(spec.extra_hosts)},
      {"Ulimits", ulimits(spec)}};
  Json state = {{"Status", std::string(to_string(status))},
                // Docker's State.Running stays true while the container waits to be restarted.
                {"Running", running || restarting},
                {"Paused", false},
                {"Restarting", restarting},
                {"OOMKilled", false},
                {"Dead", false},
                {"Pid", running ? r.container_pid : 0},
                {"ExitCode", r.exit_code},
                {"Error", ""},
                {"StartedAt", r.started.empty() ? "0001-01-01T00:00:00Z" : r.started},
                {"FinishedAt", r.finished.empty() ? "0001-01-01T00:00:00Z" : r.finished}};
  if (r.health) {
    state["Health"] =
        containers::to_json(load_health(store, r.id).value_or(containers::HealthState{}));
  }
  std::string lowers;
  for (const auto& l : r.lowers) lowers += (lowers.empty() ? "" : ":") + l;
  return {
      {"Id", r.id},
      {"Created", r.created},
      {"Path", spec.args.empty() ? "" : spec.args[0]},
      {"Args", args},
      {"State", state},
      {"Image", r.image_id},
      {"ResolvConfPath", dir + "/etc/resolv.conf"},
      {"HostnamePath", dir + "/etc/hostname"},
      {"HostsPath", dir + "/etc/hosts"},
      {"LogPath", r.detached ? dir + "/container.log" : ""},
      {"Name", "/" + r.name},
      {"RestartCount", r.restart_count},
      {"Driver", "imgfs"},
      {"Platform", "linux"},
      {"HostConfig", host_config},
      {"GraphDriver",
       {{"Name", "imgfs"},
        {"Data",
         {{"LowerDir", lowers},
          {"UpperDir", dir + "/upper"},
          {"MergedDir", container_rootfs(store, r.id)}}}}},
      {"Mounts", mounts(store, r)},
      {"Config",
       {{"Hostname", spec.hostname.empty() ? r.id.substr(0, 12) : spec.hostname},
        {"User", user},
        {"Tty", spec.tty},
        {"OpenStdin", spec.stdin_open},
        {"Env", spec.env},
        {"Cmd", spec.args},
        {"Image", r.image},
        {"WorkingDir", spec.cwd},
        {"Entrypoint", nullptr},
        {"ExposedPorts", exposed},
        {"Labels", r.labels},
        {"StopSignal", r.stop_signal.empty() ? "SIGTERM" : r.stop_signal},
        {"Healthcheck", r.health ? containers::to_json(*r.health) : Json(nullptr)}}},
      {"NetworkSettings", {{"Ports", running ? port_bindings(r) : Json::object()}}},
  };
}

}  // namespace imgbuild::cli
