#include "runtime/user.h"

#include <fcntl.h>

#include <algorithm>
#include <optional>

#include "base/sys.h"
#include "runtime/passwd_file.h"
#include "runtime/safe_path.h"

namespace imgbuild::runtime {
namespace {

constexpr size_t kMaxFile = 4 << 20;

}  // namespace

std::optional<uint64_t> parse_numeric_id(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    unsigned d = static_cast<unsigned>(c - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  return v;
}

Status check_id_range(uint64_t id, std::string_view subject) {
  if (id <= kMaxUserId) return {};
  return fail(
      ErrorKind::kInvalidArgument,
      std::string(subject) + ": uids and gids must be in range 0-" + std::to_string(kMaxUserId));
}

namespace {

Result<ResolvedUser> resolve_ids(std::string_view user, std::string_view passwd,
                                 std::string_view group) {
  ResolvedUser out;
  if (user.empty()) user = "0";
  size_t colon = user.find(':');
  std::string_view user_part = user.substr(0, colon);
  std::optional<std::string_view> group_part;
  if (colon != std::string_view::npos) group_part = user.substr(colon + 1);

  std::optional<uint64_t> uid_num = parse_numeric_id(user_part);
  if (uid_num) TRY(check_id_range(*uid_num, "user " + std::string(user)));
  // Ids as stored: ranges are checked on the result, so an out-of-range id in passwd is refused.
  std::string name;
  bool found = false;
  for (const PasswdEntry& e : parse_passwd(passwd)) {
    if ((uid_num && e.uid == *uid_num) || (!uid_num && e.name == user_part)) {
      found = true;
      name = e.name;
      out.uid = e.uid;
      out.gid = e.gid;
      out.home = e.home.empty() ? "/" : e.home;
      break;
    }
  }
  if (!found) {
    if (!uid_num) {
      return fail(ErrorKind::kNotFound, "unable to find user " + std::string(user_part) +
                                            ": no matching entries in passwd file");
    }
    out.uid = *uid_num;
    out.gid = 0;
  }

  if (group_part) {
    std::optional<uint64_t> gid_num = parse_numeric_id(*group_part);
    if (gid_num) TRY(check_id_range(*gid_num, "user " + std::string(user)));
    bool gfound = false;
    for (const GroupEntry& e : parse_group(group)) {
      if ((gid_num && e.gid == *gid_num) || (!gid_num && e.name == *group_part)) {
        gfound = true;
        out.gid = e.gid;
        break;
      }
    }
    if (!gfound) {
      if (!gid_num) {
        return fail(ErrorKind::kNotFound, "unable to find group " + std::string(*group_part) +
                                              ": no matching entries in group file");
      }
      out.gid = *gid_num;
    }
    out.additional_gids = {out.gid};
    return out;
  }

  out.additional_gids = {out.gid};
  if (!name.empty()) {
    for (const GroupEntry& e : parse_group(group)) {
      bool member = std::find(e.members.begin(), e.members.end(), name) != e.members.end();
      if (member && std::find(out.additional_gids.begin(), out.additional_gids.end(), e.gid) ==
                        out.additional_gids.end()) {
        out.additional_gids.push_back(e.gid);
      }
    }
  }
  return out;
}

}  // namespace

Result<ResolvedUser> resolve_user_in(std::string_view user, std::string_view passwd,
                                     std::string_view group) {
  auto resolved = resolve_ids(user, passwd, group);
  if (!resolved) return resolved;
  std::string subject = "user " + std::string(user);
  TRY(check_id_range(resolved->uid, subject));
  TRY(check_id_range(resolved->gid, subject));
  for (uint32_t g : resolved->additional_gids) TRY(check_id_range(g, subject));
  return resolved;
}

Result<ResolvedUser> resolve_user(const std::string& rootfs, std::string_view user) {
  UniqueFd root = TRY(sys::open(rootfs, O_PATH | O_DIRECTORY));
  auto read = [&](const char* rel) -> Result<std::string> {
    auto text = read_file_in_root(root.get(), rel, kMaxFile);
    if (!text && text.error().kind() == ErrorKind::kNotFound) return std::string();
    return text;
  };
  std::string passwd = TRY(read("etc/passwd"));
  std::string group = TRY(read("etc/group"));
  return resolve_user_in(user, passwd, group);
}

}  // namespace imgbuild::runtime
