#include "containers/kv_file.h"

#include <cstdlib>

#include "base/fs.h"

namespace imgbuild::containers {

Result<std::vector<std::string>> read_kv_file(const std::string& path, KvFileKind kind) {
  std::string text = TRY(fs::read_file(path));
  std::vector<std::string> out;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    std::string key = line.substr(0, line.find('='));
    if (key.empty() || key.find_first_of(" \t") != std::string::npos) {
      return fail(ErrorKind::kInvalidArgument, path + ":" + std::to_string(line_no) +
                                                   ": variable '" + key + "' contains whitespaces");
    }
    if (line.find('=') == std::string::npos && kind == KvFileKind::kEnv) {
      // "KEY" alone takes the value from this environment, as Docker does.
      const char* v = std::getenv(key.c_str());
      if (v == nullptr) continue;
      line += std::string("=") + v;
    }
    out.push_back(line);
  }
  return out;
}

Result<std::map<std::string, std::string>> parse_labels(const std::vector<std::string>& labels,
                                                        const std::vector<std::string>& files) {
  std::vector<std::string> all;
  for (const auto& f : files) {
    auto entries = TRY(read_kv_file(f, KvFileKind::kLabels));
    all.insert(all.end(), entries.begin(), entries.end());
  }
  all.insert(all.end(), labels.begin(), labels.end());
  std::map<std::string, std::string> out;
  for (const auto& entry : all) {
    size_t eq = entry.find('=');
    std::string key = entry.substr(0, eq);
    if (key.empty()) {
      return fail(ErrorKind::kInvalidArgument, "invalid label '" + entry + "': empty name");
    }
    out[key] = eq == std::string::npos ? "" : entry.substr(eq + 1);
  }
  return out;
}

bool labels_match(const std::map<std::string, std::string>& labels, std::string_view filter) {
  size_t eq = filter.find('=');
  auto it = labels.find(std::string(filter.substr(0, eq)));
  if (it == labels.end()) return false;
  return eq == std::string_view::npos || it->second == filter.substr(eq + 1);
}

}  // namespace imgbuild::containers
