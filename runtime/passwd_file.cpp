#include "runtime/passwd_file.h"

#include "runtime/user.h"

namespace imgbuild::runtime {
namespace {

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

// Calls f(fields) for every line that is not blank, not a comment and has min_fields fields.
template <class F>
void for_each_entry(std::string_view text, size_t min_fields, F f) {
  for (std::string_view line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto fields = split(line, ':');
    if (fields.size() >= min_fields) f(fields);
  }
}

}  // namespace

std::optional<uint32_t> parse_id(std::string_view s) {
  auto v = parse_numeric_id(s);
  if (!v || *v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for_each_entry(text, 7, [&](const std::vector<std::string_view>& f) {
    auto uid = parse_id(f[2]);
    auto gid = parse_id(f[3]);
    if (uid && gid) out.push_back({std::string(f[0]), *uid, *gid, std::string(f[5])});
  });
  return out;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> out;
  for_each_entry(text, 3, [&](const std::vector<std::string_view>& f) {
    auto gid = parse_id(f[2]);
    if (!gid) return;
    GroupEntry entry{std::string(f[0]), *gid, {}};
    if (f.size() >= 4 && !f[3].empty()) {
      for (std::string_view m : split(f[3], ',')) entry.members.emplace_back(m);
    }
    out.push_back(std::move(entry));
  });
  return out;
}

}  // namespace imgbuild::runtime
