#include "cli/dispatch.h"

#include <algorithm>

#include "base/terminal_text.h"

namespace imgbuild::cli {

size_t edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::vector<std::string> suggest_commands(const std::string& word,
                                          const std::vector<std::string>& command_names) {
  std::vector<std::pair<size_t, std::string>> near;
  for (const auto& name : command_names) {
    size_t distance = edit_distance(word, name);
    // cobra also suggests a command the word is a prefix of ("ima" -> images).
    bool prefix = word.size() >= 2 && name.starts_with(word);
    if (distance <= 2 || prefix) near.emplace_back(prefix ? 0 : distance, name);
  }
  std::sort(near.begin(), near.end());
  std::vector<std::string> out;
  for (auto& [distance, name] : near) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

Result<std::vector<std::string>> with_default_command(
    std::vector<std::string> args, const std::vector<std::string>& command_names,
    const std::function<bool(const std::string&)>& is_directory) {
  size_t i = 1;
  while (i < args.size()) {
    const std::string& a = args[i];
    if (a == "--root" || a == "--log-level") {
      i += 2;
    } else if (a.starts_with("--root=") || a.starts_with("--log-level=") || a == "--debug" ||
               a == "-D") {
      i += 1;
    } else {
      break;
    }
  }
  if (i >= args.size()) return args;  // no arguments: show help
  const std::string& first = args[i];
  if (first == "-h" || first == "--help" || first == "--version" ||
      std::find(command_names.begin(), command_names.end(), first) != command_names.end()) {
    return args;
  }
  if (first.starts_with("-") || is_directory(first)) {
    args.insert(args.begin() + static_cast<std::ptrdiff_t>(i), "build");
    return args;
  }
  std::string message =
      "'" + escape_control_chars(first) + "' is not an imgbuild command.\nSee 'imgbuild --help'";
  auto near = suggest_commands(first, command_names);
  if (!near.empty()) {
    message += "\n\nDid you mean this?";
    for (const auto& name : near) message += "\n\t" + name;
  }
  return fail(ErrorKind::kNotFound, message);
}

}  // namespace imgbuild::cli
