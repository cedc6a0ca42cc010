// Capability sets as `docker run --cap-add/--cap-drop/--privileged` make them (moby
// oci/caps.TweakCapabilities): start from Docker's 14 defaults (runtime/docker_defaults.h), or
// from every capability when --cap-add ALL, or from none when --cap-drop ALL; remove the dropped
// ones; add the added ones. Names as Docker takes them: "NET_ADMIN" or "CAP_NET_ADMIN", any case,
// and "ALL". Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::runtime {

// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();

// "NET_ADMIN" / "cap_net_admin" -> CAP_NET_ADMIN; kInvalidArgument `unknown capability: "X"`.
Result<int> parse_capability(std::string_view name);

// "CAP_NET_ADMIN" for CAP_NET_ADMIN.
std::string capability_name(int cap);

// Sorted, without duplicates.
Result<std::vector<int>> resolve_capabilities(const std::vector<std::string>& add,
                                              const std::vector<std::string>& drop);

// Every capability of this kernel (--privileged).
std::vector<int> all_capabilities();

}  // namespace imgbuild::runtime
