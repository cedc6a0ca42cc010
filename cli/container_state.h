// Containers on disk: one directory per container in the store, <root>/containers/<id>/:
//
//   state.json   ContainerRecord (below), replaced atomically on every change
//   refs.json    GC root: {"manifests": ["sha256:<image manifest>"]} so prune keeps the image
//   upper/       the container's writable layer (imgfs upper)
//   rootfs/      where the imgfs union of the image's layers + upper is mounted while it runs
//   etc/         hosts, resolv.conf, hostname bound into the container
//   container.log  output of a detached container (stdout and stderr interleaved)
//   health.json  State.Health of a running container with a health check, written by its
//                monitor (replaced atomically)
//   stop-requested  written by `stop`/`kill` (and removed by `start`): the monitor does not
//                   restart the container again, whatever its restart policy
//
// Who writes state.json: `run` (foreground: the imgbuild process itself is the monitor) or the
// detached monitor process (`imgbuild container-monitor`), which records "running" once the
// process has exec'd and "exited" with the exit code when it ends. A record that says running
// while its monitor is gone is reported as exited (-1) and cleaned by `rm` (force unmount, stale
// cgroup, directory). Thread-compatible; concurrent processes only ever replace whole files.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/error.h"
#include "containers/health_check.h"
#include "containers/restart_policy.h"
#include "image/store.h"
#include "runtime/container.h"
#include "runtime/port_mapping.h"

namespace imgbuild::cli {

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
  containers::RestartPolicy restart_policy;  // --restart
  int restart_count = 0;                     // restarts by the monitor so far
  // The health check the monitor runs (the image's HEALTHCHECK with --health-* over it);
  // nullopt: none.
  std::optional<containers::HealthConfig> health;
  std::vector<std::string> lowers;  // layer directories, top first
  runtime::ProcessSpec spec;        // fds are not recorded
  // Published ports; host ports the kernel picked are filled in once the monitor has bound them.
  std::vector<runtime::PortMapping> ports;
  std::map<std::string, std::string> labels;  // the image's Labels, then --label (Config.Labels)
  // Volumes mounted (names; their mounts are in spec.mounts, source volumes/<name>/_data).
  std::vector<std::string> volumes;
};

std::string container_dir(const image::Store& store, const std::string& id);
std::string container_rootfs(const image::Store& store, const std::string& id);

// A container directory whose state.json cannot be read or parsed. Its name, status and
// processes are unknown; it is listed (ps -a) and removable (rm -f), never guessed at.
struct UnreadableRecord {
  std::string id;  // the directory name
  Error cause;     // what is wrong with state.json, without its path
  // kind of cause, "container ID: unreadable record PATH: CAUSE".
  Error error(const image::Store& store) const;
};

struct ContainerList {
  std::vector<ContainerRecord> records;      // oldest first
  std::vector<UnreadableRecord> unreadable;  // by id
};

Status save_record(const image::Store& store, const ContainerRecord& record);
// kNotFound when there is no state.json; kCorrupt (message without the path) when it does not
// parse, the read's error otherwise.
Result<ContainerRecord> load_record(const image::Store& store, const std::string& id);
// Every container directory, readable or not. A directory without state.json (being created or
// removed) is neither. Fails only when the containers directory itself cannot be listed.
Result<ContainerList> list_records(const image::Store& store);
// By name, full id or unique id prefix. kNotFound "No such container: NAME" (noting unreadable
// records, whose names are unknown); an id (prefix) matching an unreadable record is that
// record's error(), so a damaged record never looks like a missing one.
Result<ContainerRecord> find_record(const image::Store& store, const std::string& name_or_id);
// As find_record, but an unreadable record that matches is returned, not failed (rm -f).
Result<std::variant<ContainerRecord, UnreadableRecord>> find_any_record(
    const image::Store& store, const std::string& name_or_id);

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

// health.json (see above). load_health: nullopt when there is none or it does not parse.
Status save_health(const image::Store& store, const std::string& id,
                   const containers::HealthState& state);
std::optional<containers::HealthState> load_health(const image::Store& store,
                                                   const std::string& id);

// The stop-requested marker (see above).
Status request_stop(const image::Store& store, const std::string& id);
bool stop_requested(const image::Store& store, const std::string& id);
Status clear_stop_request(const image::Store& store, const std::string& id);

// 64 random hex digits.
Result<std::string> new_container_id();
// Docker-like "adjective_surname" name not used by any record.
std::string new_container_name(const image::Store& store);

// Removes everything of a container that is not running: the mount (even one whose server was
// killed), a stale cgroup (killing what is left in it), the directory.
Status remove_container_files(const image::Store& store, const std::string& id);
inline Status remove_container_files(const image::Store& store, const ContainerRecord& record) {
  return remove_container_files(store, record.id);
}

// Parses Docker's size strings: "32m", "1g", "512k", "100" (bytes), "1.5g".
Result<int64_t> parse_size(const std::string& text);

// Signal by name ("SIGTERM", "TERM", "KILL") or number; kInvalidArgument otherwise.
Result<int> parse_signal(const std::string& text);

// Docker's human durations: "Less than a second", "5 seconds", "About a minute", "3 hours"...
std::string human_duration(int64_t seconds);

}  // namespace imgbuild::cli
