// state.json's format: a ContainerRecord as JSON (containers/record.h). Older records lack
// fields added since (seccomp, init, ulimits, labels, volumes, restart policy, health check):
// they read as their defaults.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "containers/record.h"

namespace imgbuild::containers {

nlohmann::json record_to_json(const ContainerRecord& record);
// kCorrupt with the parser's message (or "unknown status \"X\"", "unknown restart policy") when
// the text is not a record.
Result<ContainerRecord> record_from_json(std::string_view text);

}  // namespace imgbuild::containers
