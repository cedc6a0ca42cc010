#include "runtime/user.h"

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "base/sys.h"
#include "runtime/safe_path.h"

namespace imgbuild::runtime {
namespace {

constexpr size_t kMaxFile = 4 << 20;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) {
      out.push_back(s.substr(i));
      return out;
    }
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
}

// Ids as stored: ranges are checked on the result, so an out-of-range id in passwd is refused too.
std::optional<uint32_t> parse_id(std::string_view s) {
  auto v = parse_numeric_id(s);
  if (!v || *v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

// Calls f(fields) for every well-formed line (comments and short lines skipped).
template <class F>
void for_each_entry(std::string_view text, size_t min_fields, F f) {
  for (std::string_view line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto fields = split(line, ':');
    if (fields.size() < min_fields) continue;
    f(fields);
  }
}

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
  std::string name;
  bool found = false;
  for_each_entry(passwd, 7, [&](const std::vector<std::string_view>& f) {
    if (found) return;
    auto uid = parse_id(f[2]);
    auto gid = parse_id(f[3]);
    if (!uid || !gid) return;
    if ((uid_num && *uid == *uid_num) || (!uid_num && f[0] == user_part)) {
      found = true;
      name = std::string(f[0]);
      out.uid = *uid;
      out.gid = *gid;
      out.home = f[5].empty() ? "/" : std::string(f[5]);
    }
  });
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
    for_each_entry(group, 3, [&](const std::vector<std::string_view>& f) {
      if (gfound) return;
      auto gid = parse_id(f[2]);
      if (!gid) return;
      if ((gid_num && *gid == *gid_num) || (!gid_num && f[0] == *group_part)) {
        gfound = true;
        out.gid = *gid;
      }
    });
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
    for_each_entry(group, 4, [&](const std::vector<std::string_view>& f) {
      auto gid = parse_id(f[2]);
      if (!gid) return;
      for (std::string_view member : split(f[3], ',')) {
        if (member == name && std::find(out.additional_gids.begin(), out.additional_gids.end(),
                                        *gid) == out.additional_gids.end()) {
          out.additional_gids.push_back(*gid);
        }
      }
    });
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
