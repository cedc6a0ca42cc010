// Commands that take several containers (stop, kill, wait) act on each in turn, as Docker's do:
// an error for one (no such container, or the action's own) is printed and the rest still run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "cli/container_state.h"
#include "image/store.h"

namespace imgbuild::cli {

using ContainerAction = std::function<Status(const std::string& name, ContainerRecord& record)>;

// Finds each named container's record and runs `act` on it. Returns the exit code: 0, or 1 when
// any container was not found or its action failed.
int for_each_container(const image::Store& store, const std::vector<std::string>& names,
                       const ContainerAction& act);

}  // namespace imgbuild::cli
