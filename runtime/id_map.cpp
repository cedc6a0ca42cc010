#include "runtime/id_map.h"

#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <limits>

#include "base/fs.h"

namespace imgbuild::runtime {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool parse_u32(std::string_view s, uint32_t& out) {
  s = trim(s);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// Namespace ids 1.. follow each other across the subordinate ranges.
std::vector<IdRange> with_own_id(uint32_t own, const std::vector<IdRange>& subs) {
  std::vector<IdRange> out = {{0, own, 1}};
  uint32_t next = 1;
  for (const IdRange& r : subs) {
    out.push_back({next, r.outer, r.count});
    next += r.count;
  }
  return out;
}

}  // namespace

Result<std::vector<IdRange>> parse_subids(std::string_view text, std::string_view file,
                                          std::string_view name, uint32_t id) {
  std::vector<IdRange> out;
  std::string id_text = std::to_string(id);
  int line_no = 0;
  uint64_t total = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    auto fields = split(line, ':');
    std::string_view who = trim(fields[0]);
    if (who != name && who != id_text) continue;
    IdRange r;
    if (fields.size() != 3 || !parse_u32(fields[1], r.outer) || !parse_u32(fields[2], r.count) ||
        r.count == 0) {
      return fail(ErrorKind::kInvalidArgument, std::string(file) + ":" + std::to_string(line_no) +
                                                   ": expected NAME:START:COUNT, got \"" +
                                                   std::string(line) + "\"");
    }
    total += r.count;
    if (total >= std::numeric_limits<uint32_t>::max()) {
      return fail(ErrorKind::kInvalidArgument,
                  std::string(file) + ":" + std::to_string(line_no) + ": ranges too large");
    }
    out.push_back(r);
  }
  return out;
}

Result<IdMapPlan> plan_id_maps(uid_t uid, gid_t gid, std::string_view name,
                               std::string_view subuid_text, std::string_view subgid_text) {
  auto subuids = TRY(parse_subids(subuid_text, "/etc/subuid", name, uid));
  auto subgids = TRY(parse_subids(subgid_text, "/etc/subgid", name, uid));
  IdMapPlan plan;
  if (subuids.empty() != subgids.empty()) {
    const char* lacking = subuids.empty() ? "/etc/subuid" : "/etc/subgid";
    return fail(ErrorKind::kInvalidArgument,
                std::string(lacking) + " has no range for user " + std::string(name) + " while " +
                    (subuids.empty() ? "/etc/subgid" : "/etc/subuid") +
                    " has one: add both (see the README's Rootless section)");
  }
  plan.subordinate = !subuids.empty();
  plan.uids = with_own_id(uid, subuids);
  plan.gids = with_own_id(gid, subgids);
  return plan;
}

Result<IdMapPlan> plan_id_maps_for_current_user() {
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  std::string name;
  if (struct passwd* pw = ::getpwuid(uid); pw != nullptr) name = pw->pw_name;
  auto read_optional = [](const char* path) -> Result<std::string> {
    auto text = fs::read_file(path);
    if (!text && text.error().kind() == ErrorKind::kNotFound) return std::string();
    return text;
  };
  std::string subuid = TRY(read_optional("/etc/subuid"));
  std::string subgid = TRY(read_optional("/etc/subgid"));
  return plan_id_maps(uid, gid, name.empty() ? std::to_string(uid) : name, subuid, subgid);
}

Result<std::vector<IdRange>> parse_proc_id_map(std::string_view text) {
  std::vector<IdRange> out;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.empty()) continue;
    std::vector<std::string_view> fields;
    for (std::string_view f : split(line, ' ')) {
      if (!trim(f).empty()) fields.push_back(f);
    }
    IdRange r;
    if (fields.size() != 3 || !parse_u32(fields[0], r.inner) || !parse_u32(fields[1], r.outer) ||
        !parse_u32(fields[2], r.count)) {
      return fail(ErrorKind::kCorrupt, "id map line \"" + std::string(line) + "\"");
    }
    out.push_back(r);
  }
  return out;
}

bool id_mapped(const char* map_file, uint32_t id) {
  auto text = fs::read_file(map_file);
  if (!text) return false;
  auto map = parse_proc_id_map(*text);
  if (!map) return false;
  for (const IdRange& r : *map) {
    if (id >= r.inner && id - r.inner < r.count) return true;
  }
  return false;
}

bool setgroups_allowed() {
  auto text = fs::read_file("/proc/self/setgroups");
  return !text || !text->starts_with("deny");
}

std::string format_id_map(const std::vector<IdRange>& ranges) {
  std::string out;
  for (const IdRange& r : ranges) {
    if (!out.empty()) out += ',';
    out += std::to_string(r.inner) + ":" + std::to_string(r.outer) + ":" + std::to_string(r.count);
  }
  return out;
}

}  // namespace imgbuild::runtime
