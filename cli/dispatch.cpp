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

namespace {

struct ManagementAlias {
  std::string_view group, word;
  std::vector<std::string_view> expansion;
};

// Words whose top-level command has another name, or needs --type; every other "GROUP WORD" is
// "WORD" when GROUP lists it.
const std::vector<ManagementAlias>& renamed() {
  static const std::vector<ManagementAlias> kAliases = {
      {"image", "ls", {"images"}},
      {"image", "list", {"images"}},
      {"image", "rm", {"rmi"}},
      {"image", "remove", {"rmi"}},
      {"image", "inspect", {"inspect", "--type", "image"}},
      {"container", "ls", {"ps"}},
      {"container", "list", {"ps"}},
      {"container", "ps", {"ps"}},
      {"container", "remove", {"rm"}},
      {"container", "inspect", {"inspect", "--type", "container"}},
  };
  return kAliases;
}

bool same_word_under(std::string_view group, std::string_view word) {
  static const std::vector<std::string_view> kImage = {"history", "tag",    "pull",  "push", "save",
                                                       "load",    "import", "build", "prune"};
  static const std::vector<std::string_view> kContainer = {
      "run",    "exec",   "logs",  "stop",    "kill",   "wait",   "top",   "rename",
      "diff",   "commit", "cp",    "port",    "rm",     "create", "start", "restart",
      "attach", "stats",  "pause", "unpause", "update", "export"};
  const auto& words = group == "image" ? kImage : kContainer;
  return std::find(words.begin(), words.end(), word) != words.end();
}

}  // namespace

std::vector<std::string> expand_management_command(std::vector<std::string> args, size_t at,
                                                   const std::vector<std::string>& command_names) {
  if (at + 1 >= args.size() || (args[at] != "image" && args[at] != "container")) return args;
  const std::string& group = args[at];
  const std::string& word = args[at + 1];
  std::vector<std::string> expansion;
  for (const auto& a : renamed()) {
    if (a.group == group && a.word == word)
      expansion.assign(a.expansion.begin(), a.expansion.end());
  }
  if (expansion.empty() && same_word_under(group, word)) expansion = {word};
  if (expansion.empty() ||
      std::find(command_names.begin(), command_names.end(), expansion[0]) == command_names.end()) {
    return args;
  }
  auto first = args.begin() + static_cast<std::ptrdiff_t>(at);
  args.erase(first, first + 2);
  args.insert(args.begin() + static_cast<std::ptrdiff_t>(at), expansion.begin(), expansion.end());
  return args;
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
  args = expand_management_command(std::move(args), i, command_names);
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
