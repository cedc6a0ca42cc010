// The output of every `inspect` (images, containers, volumes): a JSON array of the objects found
// (Docker's 4-space indent), or each object through a Go template (-f/--format; "json" is the
// array). Names that cannot be found are reported on stderr after the output; the exit status is
// then 1.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgbuild::cli {

using InspectFinder = std::function<Result<nlohmann::json>(const std::string& name)>;

int print_inspect(const std::vector<std::string>& names, const std::string& format,
                  const InspectFinder& find);

}  // namespace imgbuild::cli
