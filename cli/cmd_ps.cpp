// imgbuild ps [-a] [-q] [--no-trunc] [--filter K=V] [--format F]: lists containers (running and
// restarting ones unless -a), as Docker does; --format as format/list_format.h.
#include <cstdio>
#include <ctime>

#include "cli/command.h"
#include "cli/container_filter.h"
#include "cli/container_state.h"
#include "cli/image_common.h"
#include "format/list_format.h"
#include "image/image_config.h"

namespace imgbuild::cli {
namespace {

// As dockerd lists it (arguments after the program that contain a space in single quotes) and
// the docker CLI prints it (cut to 20 characters, then Go-quoted).
std::string quote_command(const std::vector<std::string>& args, bool no_trunc) {
  std::string cmd;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) cmd += ' ';
    bool spaced = i > 0 && args[i].find(' ') != std::string::npos;
    cmd += spaced ? "'" + args[i] + "'" : args[i];
  }
  if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
  std::string quoted = "\"";
  for (char c : cmd) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

int64_t age(const std::string& when) {
  auto t = image::parse_rfc3339(when);
  return t ? static_cast<int64_t>(std::time(nullptr)) - *t : 0;
}

// " (healthy)", " (unhealthy)", " (health: starting)" for a running container with a check.
std::string health_suffix(const image::Store& store, const ContainerRecord& r) {
  if (!r.health) return "";
  auto state = load_health(store, r.id);
  std::string status = state ? state->status : "starting";
  return status == "starting" ? " (health: starting)" : " (" + status + ")";
}

std::string status_of(const image::Store& store, const ContainerRecord& r) {
  if (is_running(r)) {
    return "Up " + human_duration(age(r.started.empty() ? r.created : r.started)) +
           health_suffix(store, r);
  }
  if (is_restarting(r)) {
    return "Restarting (" + std::to_string(r.exit_code) + ") " + human_duration(age(r.finished)) +
           " ago";
  }
  if (r.status == ContainerStatus::kCreated) return "Created";
  if (r.status != ContainerStatus::kExited) return "Exited (-1) (monitor gone)";
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

// "k1=v1,k2=v2", as Docker's .Labels.
std::string labels_of(const ContainerRecord& r) {
  std::string out;
  for (const auto& [k, v] : r.labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

// The fields Docker's `ps` templates see (cli/command/formatter/container.go), as strings.
nlohmann::json row_of(const image::Store& store, const ContainerRecord& r, bool no_trunc) {
  return {{"ID", no_trunc ? r.id : r.id.substr(0, 12)},
          {"Image", r.image},
          {"Command", quote_command(r.spec.args, no_trunc)},
          {"CreatedAt", go_time_string(r.created)},
          {"RunningFor", human_duration(age(r.created)) + " ago"},
          {"Ports", ports_of(r)},
          {"State", std::string(to_string(observed_status(r)))},
          {"Status", status_of(store, r)},
          {"Size", "0B"},
          {"Names", r.name},
          {"Labels", labels_of(r)},
          {"Mounts", ""},
          {"Networks", runtime::network_mode_name(r.spec.network)},
          {"LocalVolumes", "0"}};
}

// A record whose state.json cannot be read: only its id is known; the status says why.
nlohmann::json row_of(const UnreadableRecord& u, bool no_trunc) {
  return {{"ID", no_trunc ? u.id : u.id.substr(0, 12)},
          {"Image", ""},
          {"Command", ""},
          {"CreatedAt", ""},
          {"RunningFor", ""},
          {"Ports", ""},
          {"State", "unreadable"},
          {"Status", "Unreadable record: " + u.cause.message()},
          {"Size", "0B"},
          {"Names", ""},
          {"Labels", ""},
          {"Mounts", ""},
          {"Networks", ""},
          {"LocalVolumes", "0"}};
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto no_trunc = std::make_shared<bool>(false);
  auto format_flag = std::make_shared<std::string>();
  auto filters = std::make_shared<std::vector<std::string>>();
  sub.add_flag("-a,--all", *all, "Show all containers (default: running ones)");
  sub.add_flag("-q,--quiet", *quiet, "Only show container IDs");
  sub.add_flag("--no-trunc", *no_trunc, "Don't truncate output");
  sub.add_option("-f,--filter", *filters,
                 "Filter output (label=K[=V], name=, id=, status=, volume=)")
      ->allow_extra_args(false);
  sub.add_option("--format", *format_flag,
                 "table, table TEMPLATE, json (one object per line) or a Go template");
  return [=, &globals]() -> int {
    static const nlohmann::json kHeaders = {
        {"ID", "CONTAINER ID"},    {"Image", "IMAGE"},
        {"Command", "COMMAND"},    {"CreatedAt", "CREATED AT"},
        {"RunningFor", "CREATED"}, {"Ports", "PORTS"},
        {"State", "STATE"},        {"Status", "STATUS"},
        {"Size", "SIZE"},          {"Names", "NAMES"},
        {"Labels", "LABELS"},      {"Mounts", "MOUNTS"},
        {"Networks", "NETWORKS"},  {"LocalVolumes", "LOCAL VOLUMES"}};
    auto format = format::ListFormat::parse(
        *format_flag,
        "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
        kHeaders);
    if (!format) return report_error(format.error());
    auto filter = ContainerFilter::parse(*filters);
    if (!filter) return report_error(filter.error());
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    auto list = list_records(*store);
    if (!list) return report_error(list.error());
    std::vector<nlohmann::json> rows;
    for (auto it = list->records.rbegin(); it != list->records.rend(); ++it) {
      const ContainerRecord& r = *it;
      if (!*all && !filter->filters_status() && !is_active(r)) continue;
      if (!filter->matches(r)) continue;
      if (*quiet) {
        std::printf("%s\n", (*no_trunc ? r.id : r.id.substr(0, 12)).c_str());
        continue;
      }
      rows.push_back(row_of(*store, r, *no_trunc));
    }
    // Whether an unreadable container runs is unknown: listed with -a, as Docker lists dead ones.
    for (const auto& u : list->unreadable) {
      if (!*all || !filter->empty()) break;
      if (*quiet) {
        std::printf("%s\n", (*no_trunc ? u.id : u.id.substr(0, 12)).c_str());
        continue;
      }
      rows.push_back(row_of(u, *no_trunc));
    }
    if (*quiet) return 0;
    auto out = format->render(rows);
    if (!out) return report_error(out.error());
    std::fputs(out->c_str(), stdout);
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
