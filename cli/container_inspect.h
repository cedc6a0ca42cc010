// `imgbuild inspect` of a container: Docker's container inspect object (the shape of
// `docker container inspect`, api/types ContainerJSON) filled from what a container record
// holds. Fields Docker has and the record does not (networks' addresses, restart counts) are
// left out rather than invented, except the few every script reads (State.Paused false, ...).
#pragma once

#include <nlohmann/json.hpp>

#include "cli/container_state.h"
#include "image/store.h"

namespace imgbuild::cli {

nlohmann::json describe_container(const image::Store& store, const ContainerRecord& record);

}  // namespace imgbuild::cli
