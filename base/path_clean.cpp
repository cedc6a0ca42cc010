#include "base/path_clean.h"

#include <algorithm>

namespace imgbuild {

Result<std::vector<std::string>> clean_path_parts(std::string_view path, DotDot policy) {
  std::vector<std::string> parts;
  for (size_t start = 0, end = 0; start <= path.size(); start = end + 1) {
    end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == ".") continue;
    if (part != "..") {
      parts.emplace_back(part);
      continue;
    }
    if (policy == DotDot::kForbid) {
      return fail(ErrorKind::kInvalidArgument,
                  "path \"" + std::string(path) + "\" contains \"..\"");
    }
    if (!parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else if (policy == DotDot::kKeep) {
      parts.emplace_back(part);
    } else if (policy == DotDot::kReject) {
      return fail(ErrorKind::kInvalidArgument,
                  "path \"" + std::string(path) + "\" climbs above its root");
    }
  }
  return parts;
}

Result<std::string> clean_path(std::string_view path, DotDot policy) {
  return join_path_parts(TRY(clean_path_parts(path, policy)));
}

std::string join_path_parts(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out;
}

}  // namespace imgbuild
