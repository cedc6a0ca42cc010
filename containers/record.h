// A container as the engine knows it: the record kept in containers/<id>/state.json (the layout
// and who writes it: containers/record_store.h), and its status as seen now.
//
// Status derivation: state.json says what the container's monitor last recorded; whether that is
// still true depends on the monitor process being alive. A record that says running or
// restarting whose monitor is gone has exited (the monitor was killed); `ps` shows it as exited
// and `rm` cleans up after it.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "containers/health_check.h"
#include "containers/restart_policy.h"
#include "runtime/container.h"
#include "runtime/port_mapping.h"

namespace imgbuild::containers {

// What state.json says of the container's process. The on-disk strings are to_string's.
// kRestarting: the container exited and its monitor waits to restart it (restart policy).
enum class ContainerStatus { kCreated, kRunning, kRestarting, kExited };

// "created", "running", "restarting", "exited": state.json's strings and Docker's State.Status
// words.
std::string_view to_string(ContainerStatus status);
// The inverse of to_string; nullopt for any other text.
std::optional<ContainerStatus> parse_container_status(std::string_view text);

struct ContainerRecord {
  std::string id;  // 64 hex
  std::string name;
  std::string image;     // as the user named it
  std::string image_id;  // config digest
  std::string manifest_digest;
  std::string created;  // RFC 3339
  std::string started;  // RFC 3339, the last start; "" before the first
  ContainerStatus status = ContainerStatus::kCreated;
  pid_t monitor_pid = 0;    // process that owns the mount and waits for the container
  pid_t container_pid = 0;  // host pid of the container's pid 1
  int exit_code = 0;
  std::string finished;     // RFC 3339
  std::string stop_signal;  // --stop-signal, else the image's StopSignal ("" = SIGTERM)
  int stop_timeout = -1;    // --stop-timeout seconds; -1: Docker's default (10)
  bool auto_remove = false;
  bool detached = false;
  RestartPolicy restart_policy;  // --restart
  int restart_count = 0;         // restarts by the monitor so far
  // The health check the monitor runs (the image's HEALTHCHECK with --health-* over it);
  // nullopt: none.
  std::optional<HealthConfig> health;
  std::vector<std::string> lowers;  // layer directories, top first
  // --lazy: the registry image (by digest, no tag) the lazy lowers are fetched from whenever the
  // container is mounted (containers/lazy_mount.h); "" when every layer is in the store.
  std::string lazy_source;
  runtime::ProcessSpec spec;  // fds are not recorded
  // Published ports; host ports the kernel picked are filled in once the monitor has bound them.
  std::vector<runtime::PortMapping> ports;
  std::map<std::string, std::string> labels;  // the image's Labels, then --label (Config.Labels)
  // Volumes mounted (names; their mounts are in spec.mounts, source volumes/<name>/_data).
  std::vector<std::string> volumes;
};

// Running: status says so and the monitor process still exists.
bool is_running(const ContainerRecord& record);
// Restarting: status says so and the monitor (which will restart it) still exists.
bool is_restarting(const ContainerRecord& record);
// Running or restarting: the monitor still owns the container (its mount, its record).
inline bool is_active(const ContainerRecord& record) {
  return is_running(record) || is_restarting(record);
}
// The status as seen now: a record that says running or restarting whose monitor is gone has
// exited.
ContainerStatus observed_status(const ContainerRecord& record);

}  // namespace imgbuild::containers
