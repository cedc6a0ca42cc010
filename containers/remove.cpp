#include "containers/remove.h"

#include <signal.h>

#include <chrono>
#include <variant>

#include "base/fs.h"
#include "containers/extras.h"
#include "containers/record_store.h"
#include "containers/stop.h"

namespace imgbuild::containers {
namespace {

// An unreadable record may belong to a running container: only a forced remove removes it,
// killing whatever is left in its cgroup, as for a running one.
Status remove_unreadable(const image::Store& store, const std::string& name,
                         const UnreadableRecord& u, RemoveForce force) {
  if (force == RemoveForce::kNo) {
    return fail(u.cause.kind(), "cannot remove container \"" + name + "\": its record " +
                                    fs::join(container_dir(store, u.id), "state.json") +
                                    " is unreadable (" + u.cause.message() +
                                    "), so whether it is running is unknown: force remove (rm "
                                    "-f) to remove it anyway");
  }
  return remove_container_files(store, u.id);
}

}  // namespace

Status remove_container(const image::Store& store, const std::string& name, RemoveForce force,
                        RemoveVolumes volumes) {
  auto found = TRY(find_any_record(store, name));
  if (auto* u = std::get_if<UnreadableRecord>(&found)) {
    return remove_unreadable(store, name, *u, force);
  }
  ContainerRecord& record = std::get<ContainerRecord>(found);
  if (is_restarting(record) && force == RemoveForce::kNo) {
    return fail(ErrorKind::kInvalidArgument,
                "You cannot remove a restarting container " + record.id +
                    ". Stop the container before attempting removal or force remove");
  }
  if (is_active(record)) {
    if (force == RemoveForce::kNo) {
      return fail(ErrorKind::kInvalidArgument,
                  "cannot remove container \"" + name +
                      "\": container is running: stop the container before removing or force "
                      "remove");
    }
    TRY(stop_container(store, record, SIGKILL, std::chrono::seconds(10)));
  }
  TRY(remove_container_files(store, record));
  if (volumes == RemoveVolumes::kAnonymous) TRY(remove_anonymous_volumes(store, record));
  return {};
}

}  // namespace imgbuild::containers
