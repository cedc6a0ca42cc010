#include "cli/container_filter.h"

#include <algorithm>
#include <regex>

#include "containers/kv_file.h"

namespace imgbuild::cli {
namespace {

bool name_matches(const std::string& name, const std::string& pattern) {
  try {
    return std::regex_search("/" + name, std::regex(pattern));
  } catch (const std::regex_error&) {
    return false;  // refused by parse()
  }
}

}  // namespace

Result<ContainerFilter> ContainerFilter::parse(const std::vector<std::string>& filters) {
  ContainerFilter f;
  for (const auto& text : filters) {
    size_t eq = text.find('=');
    if (eq == std::string::npos) {
      return fail(ErrorKind::kInvalidArgument, "bad format of filter (expected name=value)");
    }
    std::string key = text.substr(0, eq);
    std::string value = text.substr(eq + 1);
    if (key != "label" && key != "name" && key != "id" && key != "status" && key != "volume") {
      return fail(ErrorKind::kInvalidArgument, "invalid filter '" + key + "'");
    }
    if (key == "status" && !parse_container_status(value)) {
      return fail(ErrorKind::kInvalidArgument, "invalid filter 'status=" + value + "'");
    }
    if (key == "name") {
      try {
        std::regex check(value);
      } catch (const std::regex_error& e) {
        return fail(ErrorKind::kInvalidArgument,
                    "invalid filter 'name=" + value + "': " + std::string(e.what()));
      }
    }
    f.by_key_[key].push_back(value);
  }
  return f;
}

bool ContainerFilter::matches(const ContainerRecord& r) const {
  for (const auto& [key, values] : by_key_) {
    auto any = [&](auto pred) { return std::any_of(values.begin(), values.end(), pred); };
    bool ok = true;
    if (key == "label") {
      ok = std::all_of(values.begin(), values.end(),
                       [&](const std::string& v) { return containers::labels_match(r.labels, v); });
    } else if (key == "name") {
      ok = any([&](const std::string& v) { return name_matches(r.name, v); });
    } else if (key == "id") {
      ok = any([&](const std::string& v) { return r.id.starts_with(v); });
    } else if (key == "status") {
      std::string status(to_string(observed_status(r)));
      ok = any([&](const std::string& v) { return v == status; });
    } else if (key == "volume") {
      ok = any([&](const std::string& v) {
        return std::find(r.volumes.begin(), r.volumes.end(), v) != r.volumes.end() ||
               std::any_of(r.spec.mounts.begin(), r.spec.mounts.end(),
                           [&](const runtime::BindMount& m) { return m.target == v; });
      });
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace imgbuild::cli
