#include "runtime/capabilities.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>

#include "base/fs.h"
#include "runtime/docker_defaults.h"

namespace imgbuild::runtime {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_all(std::string_view name) { return upper(name) == "ALL"; }

}  // namespace

int last_capability() {
  static const int last = [] {
    auto text = fs::read_file("/proc/sys/kernel/cap_last_cap");
    int n = text ? std::atoi(text->c_str()) : 0;
    return n > 0 ? n : CAP_LAST_CAP;
  }();
  return last;
}

Result<int> parse_capability(std::string_view name) {
  std::string key = upper(name);
  if (!key.starts_with("CAP_")) key = "CAP_" + key;
  std::string lower = key;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  cap_value_t value = 0;
  if (::cap_from_name(lower.c_str(), &value) == 0 && value <= last_capability()) return value;
  return fail(ErrorKind::kInvalidArgument, "unknown capability: \"" + key + "\"");
}

std::string capability_name(int cap) {
  char* name = ::cap_to_name(cap);
  if (name == nullptr) return "CAP_" + std::to_string(cap);
  std::string out = upper(name);
  ::cap_free(name);
  return out;
}

std::vector<int> all_capabilities() {
  std::vector<int> out;
  for (int cap = 0; cap <= last_capability(); ++cap) out.push_back(cap);
  return out;
}

Result<std::vector<int>> resolve_capabilities(const std::vector<std::string>& add,
                                              const std::vector<std::string>& drop) {
  std::vector<int> adds, drops;
  bool add_all = false, drop_all = false;
  for (const auto& name : add) {
    if (is_all(name)) {
      add_all = true;
    } else {
      adds.push_back(TRY(parse_capability(name)));
    }
  }
  for (const auto& name : drop) {
    if (is_all(name)) {
      drop_all = true;
    } else {
      drops.push_back(TRY(parse_capability(name)));
    }
  }
  std::vector<int> base;
  if (add_all) {
    base = all_capabilities();
  } else {
    base.assign(kDefaultCapabilities.begin(), kDefaultCapabilities.end());
  }
  std::vector<int> out;
  if (!drop_all || add_all) {
    for (int cap : base) {
      if (std::find(drops.begin(), drops.end(), cap) == drops.end()) out.push_back(cap);
    }
  }
  out.insert(out.end(), adds.begin(), adds.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace imgbuild::runtime
