// Containers on disk: one directory per container in the store, <root>/containers/<id>/:
//
//   state.json   ContainerRecord (containers/record.h, format containers/record_json.h),
//                replaced atomically on every change
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
// Who writes state.json: a foreground run (the imgbuild process itself is the monitor) or the
// detached monitor process (containers/monitor.h), which records "running" once the process has
// exec'd and "exited" with the exit code when it ends. A record that says running while its
// monitor is gone is reported as exited (-1) and cleaned by remove (force unmount, stale cgroup,
// directory). Thread-compatible; concurrent processes only ever replace whole files.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/error.h"
#include "containers/health_check.h"
#include "containers/record.h"
#include "image/store.h"

namespace imgbuild::containers {

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
// parse or records another id, the read's error otherwise.
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

// health.json (see above). load_health: nullopt when there is none or it does not parse.
Status save_health(const image::Store& store, const std::string& id, const HealthState& state);
std::optional<HealthState> load_health(const image::Store& store, const std::string& id);

// The stop-requested marker (see above).
Status request_stop(const image::Store& store, const std::string& id);
bool stop_requested(const image::Store& store, const std::string& id);
Status clear_stop_request(const image::Store& store, const std::string& id);

// 64 random hex digits.
Result<std::string> new_container_id();
// Docker-like "adjective_surname" name not used by any record.
std::string new_container_name(const image::Store& store);
// The name a new container gets: requested, unless a record has it (kAlreadyExists with
// Docker's "Conflict. The container name \"/NAME\" is already in use by container \"ID\"..."),
// or a generated one when requested is empty.
Result<std::string> claim_container_name(const image::Store& store, const std::string& requested);

// Removes everything of a container that is not running: the mount (even one whose server was
// killed), a stale cgroup (killing what is left in it), the directory.
Status remove_container_files(const image::Store& store, const std::string& id);
inline Status remove_container_files(const image::Store& store, const ContainerRecord& record) {
  return remove_container_files(store, record.id);
}

}  // namespace imgbuild::containers
