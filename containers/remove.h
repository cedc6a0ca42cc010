// Removing a container (`rm`): its mount, cgroup, writable layer and record; with
// RemoveVolumes::kAnonymous also its anonymous volumes no other container mounts (`rm -v`).
// A running or restarting container, and one whose record is unreadable (it may be running),
// is removed only with RemoveForce::kYes, which kills it first; otherwise the error is Docker's.
#pragma once

#include <string>

#include "base/error.h"
#include "image/store.h"

namespace imgbuild::containers {

enum class RemoveForce { kNo, kYes };
enum class RemoveVolumes { kKeep, kAnonymous };

// name: as the user named it (a name, id or id prefix), also in the errors.
Status remove_container(const image::Store& store, const std::string& name, RemoveForce force,
                        RemoveVolumes volumes);

}  // namespace imgbuild::containers
