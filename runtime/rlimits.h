// Resource limits (setrlimit) of a container's processes: Docker's `--ulimit NAME=SOFT[:HARD]`
// and the defaults every container gets (RLIMIT_NOFILE 1024:524288, as containerd sets them).
//
// parse_ulimit takes Docker's names (core, cpu, data, fsize, locks, memlock, msgqueue, nice,
// nofile, nproc, rss, rtprio, rttime, sigpending, stack) and Docker's errors; -1 is unlimited.
// plan_rlimits is what the container's first process (and an exec'd one) applies between clone
// and exec, in order; it checks beforehand what the kernel would refuse there, so the user sees
// which flag is at fault.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::runtime {

inline constexpr int64_t kUnlimited = -1;

struct Ulimit {
  std::string name;  // Docker's name ("nofile")
  int64_t soft = 0;  // kUnlimited: RLIM_INFINITY
  int64_t hard = 0;
};

// One setrlimit call prepared for the child.
struct RlimitSetting {
  int resource;      // RLIMIT_*
  const char* name;  // "RLIMIT_NOFILE", for the child's error report (static storage)
  struct rlimit limit;
};

// "nofile=1024:2048", "core=0", "nproc=-1". kInvalidArgument with Docker's wording:
// "invalid ulimit argument: X", "invalid ulimit type: X", "too many limit value arguments - V,
// can only have up to two, `soft[:hard]`", "ulimit soft limit must be less than or equal to hard
// limit: S > H", and for a value that is not a number "invalid ulimit value \"V\" in X".
Result<Ulimit> parse_ulimit(std::string_view spec);

// Every value of a --ulimit flag (run and build), each error as Docker's CLI words it:
// "invalid argument \"V\" for \"--ulimit\" flag: <parse_ulimit's reason>".
Result<std::vector<Ulimit>> parse_ulimit_flags(const std::vector<std::string>& values);

// The setrlimit calls for a container: Docker's RLIMIT_NOFILE default (capped at this process's
// hard limit) unless a ulimit names nofile, then each ulimit. A hard limit above this process's
// own is refused when this process cannot raise it (no CAP_SYS_RESOURCE in the initial user
// namespace, as rootless): kPermission "--ulimit NAME=...: cannot raise the hard limit above N
// (...)".
Result<std::vector<RlimitSetting>> plan_rlimits(const std::vector<Ulimit>& ulimits);

// "nofile=1024:2048" (Docker's String() form, "-1" for unlimited).
std::string to_string(const Ulimit& u);

}  // namespace imgbuild::runtime
