// User-namespace id maps for rootless mode: which host ids an unprivileged user may map, and the
// maps imgbuild asks for.
//
// /etc/subuid and /etc/subgid (shadow-utils' format, read by newuidmap/newgidmap) have lines
// "NAME_OR_UID:START:COUNT"; a user may have several. The plan maps namespace id 0 to the user's
// own id and namespace ids 1.. to the subordinate ranges in file order, the layout of `buildah
// unshare`, podman and rootlesskit: a file owned by uid 0 in an image is owned by the user on
// disk, uid N > 0 by the Nth subordinate id. Without subordinate ids the plan is the single-id
// map (0 -> the user's id), in which no other id exists (see docs/rootless.md).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/user_namespace.h"

namespace imgbuild::runtime {

// One line of /proc/PID/uid_map: ids [inner, inner+count) in the namespace are [outer, ...)
// outside.
struct IdRange {
  uint32_t inner = 0;
  uint32_t outer = 0;
  uint32_t count = 0;
  bool operator==(const IdRange&) const = default;
};

struct IdMapPlan {
  std::vector<IdRange> uids;
  std::vector<IdRange> gids;
  bool subordinate = false;  // ranges from /etc/subuid and /etc/subgid, else the single-id map
};

// The subordinate ranges of a user in the text of /etc/subuid or /etc/subgid, matched by name or
// by numeric id, in file order. Blank lines and '#' comments are skipped; a malformed line of this
// user is an error naming file and line.
Result<std::vector<IdRange>> parse_subids(std::string_view text, std::string_view file,
                                          std::string_view name, uint32_t id);

// The maps for a user: 0 -> uid (and 0 -> gid), then 1.. -> the subordinate ranges. A user with
// subordinate uids but no gids (or the reverse) is an error naming the file that lacks them.
Result<IdMapPlan> plan_id_maps(uid_t uid, gid_t gid, std::string_view name,
                               std::string_view subuid_text, std::string_view subgid_text);

// Reads the plan for the calling user from /etc/subuid and /etc/subgid (missing files: none).
Result<IdMapPlan> plan_id_maps_for_current_user();

// The map text of /proc/PID/uid_map, parsed.
Result<std::vector<IdRange>> parse_proc_id_map(std::string_view text);

// Whether id is mapped in this process's user namespace (map_file: "/proc/self/gid_map" or
// "/proc/self/uid_map").
bool id_mapped(const char* map_file, uint32_t id);

// Whether setgroups(2) is allowed here: not in a namespace whose /proc/self/setgroups says "deny"
// (a single-id map written without newgidmap).
bool setgroups_allowed();

// "0:1000:1,1:100000:65536" (as podman info shows them).
std::string format_id_map(const std::vector<IdRange>& ranges);

}  // namespace imgbuild::runtime
