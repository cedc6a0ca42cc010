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

std::optional<uint32_t> parse_id(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
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

Result<ResolvedUser> resolve_user_in(std::string_view user, std::string_view passwd,
                                     std::string_view group) {
  ResolvedUser out;
  if (user.empty()) user = "0";
  size_t colon = user.find(':');
  std::string_view user_part = user.substr(0, colon);
  std::optional<std::string_view> group_part;
  if (colon != std::string_view::npos) group_part = user.substr(colon + 1);

  std::optional<uint32_t> uid_num = parse_id(user_part);
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
    std::optional<uint32_t> gid_num = parse_id(*group_part);
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
