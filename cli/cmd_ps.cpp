// imgbuild ps [-a] [-q] [--no-trunc]: lists containers (running ones unless -a), as Docker does.
#include <cstdio>
#include <ctime>

#include "cli/command.h"
#include "cli/container_state.h"
#include "image/image_config.h"

namespace imgbuild::cli {
namespace {

std::string quote_command(const std::vector<std::string>& args, bool no_trunc) {
  std::string cmd;
  for (const auto& a : args) {
    if (!cmd.empty()) cmd += ' ';
    cmd += a;
  }
  if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
  return "\"" + cmd + "\"";
}

int64_t age(const std::string& when) {
  auto t = image::parse_rfc3339(when);
  return t ? static_cast<int64_t>(std::time(nullptr)) - *t : 0;
}

std::string status_of(const ContainerRecord& r) {
  if (is_running(r)) return "Up " + human_duration(age(r.created));
  if (r.status == "created") return "Created";
  if (r.status == "running") return "Exited (-1) (monitor gone)";
  return "Exited (" + std::to_string(r.exit_code) + ") " + human_duration(age(r.finished)) + " ago";
}

// "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp" while running, as Docker prints them.
std::string ports_of(const ContainerRecord& r) {
  if (!is_running(r)) return "";
  std::string out;
  for (const auto& p : r.ports) {
    if (!out.empty()) out += ", ";
    out += runtime::describe(p);
  }
  return out;
}

// Columns padded to the widest cell plus 3 spaces, as Docker's tabwriter does.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  auto display_len = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 code points
    return n;
  };
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], display_len(row[i]));
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - display_len(row[i]) + 3, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto no_trunc = std::make_shared<bool>(false);
  sub.add_flag("-a,--all", *all, "Show all containers (default: running ones)");
  sub.add_flag("-q,--quiet", *quiet, "Only show container IDs");
  sub.add_flag("--no-trunc", *no_trunc, "Don't truncate output");
  return [=, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    auto records = list_records(*store);
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      const ContainerRecord& r = *it;
      if (!*all && !is_running(r)) continue;
      std::string id = *no_trunc ? r.id : r.id.substr(0, 12);
      if (*quiet) {
        std::printf("%s\n", id.c_str());
        continue;
      }
      rows.push_back({id, r.image, quote_command(r.spec.args, *no_trunc),
                      human_duration(age(r.created)) + " ago", status_of(r), ports_of(r), r.name});
    }
    if (!*quiet) print_table(rows);
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(ps, Command{
                         .name = "ps",
                         .description = "List containers",
                         .setup = setup,
                     });

}  // namespace imgbuild::cli
