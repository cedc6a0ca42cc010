#include "base/mount_info.h"

#include <sys/mount.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace imgbuild::mountinfo {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<Entry> read() {
  std::vector<Entry> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    Entry e;
    unsigned major = 0, minor = 0;
    if (std::sscanf(devno.c_str(), "%u:%u", &major, &minor) == 2) e.dev = makedev(major, minor);
    e.mount_point = unescape(point);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> points_under(const std::string& path) {
  std::vector<std::string> out;
  for (auto& e : read()) {
    const std::string& p = e.mount_point;
    if (p == path || (p.size() > path.size() && p.starts_with(path) && p[path.size()] == '/')) {
      out.push_back(p);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

Status detach_all_under(const std::string& path) {
  for (const auto& p : points_under(path)) {
    if (::umount2(p.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
      return fail_errno("umount2 (detach)", p);
    }
  }
  return {};
}

}  // namespace imgbuild::mountinfo
