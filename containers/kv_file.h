// Docker's KEY=VALUE files: `run --env-file` and `run --label-file` (docker/cli opts/file.go).
// One entry a line; blank lines and lines starting with '#' are skipped, leading blanks and
// trailing blanks/CR dropped. A key with blanks is refused ("PATH:LINE: variable 'K' contains
// whitespaces"). A line with no '=': for env files the value of KEY in this process's environment
// ("KEY=value"; the line is dropped when KEY is unset), for label files the entry stays as it is.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::containers {

enum class KvFileKind { kEnv, kLabels };

Result<std::vector<std::string>> read_kv_file(const std::string& path, KvFileKind kind);

// Docker's --label-file then --label: "K=V" or "K" (an empty value); later entries win.
Result<std::map<std::string, std::string>> parse_labels(const std::vector<std::string>& labels,
                                                        const std::vector<std::string>& files);

// Docker's `label=` filter value: "K" matches a container with label K (any value), "K=V" one
// whose K is exactly V.
bool labels_match(const std::map<std::string, std::string>& labels, std::string_view filter);

}  // namespace imgbuild::containers
