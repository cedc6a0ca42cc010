// `ps --filter KEY=VALUE` (Docker's container filters): label=K or label=K=V (every label filter
// must match), name=REGEX (searched in the name, with Docker's leading "/" so "^/web$" works),
// id=PREFIX, status=created|running|exited, volume=NAME (a volume the container mounts). Values
// of one other key are alternatives; different keys must all match.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "cli/container_state.h"

namespace imgbuild::cli {

class ContainerFilter {
 public:
  // kInvalidArgument "invalid filter 'K'" for an unknown key, "bad format of filter (expected
  // name=value)" without '=', "invalid filter 'status=X'" for an unknown status, "invalid filter
  // 'name=X': ..." for a bad regular expression.
  static Result<ContainerFilter> parse(const std::vector<std::string>& filters);

  bool matches(const ContainerRecord& record) const;
  bool empty() const { return by_key_.empty(); }
  // A status filter lists stopped containers without -a, as Docker does.
  bool filters_status() const { return by_key_.contains("status"); }

 private:
  std::map<std::string, std::vector<std::string>> by_key_;
};

}  // namespace imgbuild::cli
