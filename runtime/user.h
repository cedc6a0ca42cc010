// Resolving Docker's USER strings against a root filesystem's /etc/passwd and /etc/group, as
// runc's libcontainer/user does:
//   ""          -> uid 0, gid 0
//   "name"      -> passwd entry by name (kNotFound if absent)
//   "1000"      -> passwd entry by uid if there is one, else uid 1000, gid 0, home "/"
//   "u:g"       -> u as above; g by name in /etc/group (kNotFound if absent) or numeric
// Every resulting id (numeric, or from the files) must be at most kMaxUserId (kInvalidArgument).
// Supplementary groups: without an explicit group, the primary gid followed by every group in
// /etc/group that lists the user's name as a member; with an explicit group, just that gid.
//
// The files are read through openat2(RESOLVE_IN_ROOT) and must be regular files under 4 MiB, so
// a hostile root cannot point them at host files or devices. Missing files count as empty.
// Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::runtime {

// Docker's (runc's) range for user and group ids. setresuid(-1) means "unchanged", so an id of
// 4294967295 would leave a container running as root: anything above this is refused.
inline constexpr uint64_t kMaxUserId = 2147483647;

// "1000" -> 1000; not all decimal digits -> nullopt (a name). Saturates at UINT64_MAX.
std::optional<uint64_t> parse_numeric_id(std::string_view s);
// kInvalidArgument "<subject>: uids and gids must be in range 0-2147483647" when id > kMaxUserId.
Status check_id_range(uint64_t id, std::string_view subject);

struct ResolvedUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string home = "/";
};

// Parses passwd/group text (for tests and for resolve_user).
Result<ResolvedUser> resolve_user_in(std::string_view user, std::string_view passwd,
                                     std::string_view group);
// Reads <rootfs>/etc/passwd and /etc/group safely, then resolve_user_in.
Result<ResolvedUser> resolve_user(const std::string& rootfs, std::string_view user);

}  // namespace imgbuild::runtime
