// imgbuild volume create|ls|inspect|rm|prune: the volumes kept in the store (containers/volumes.h),
// as Docker's `docker volume` with the local driver.
//   create [--label K=V] [NAME]     prints the name (a new anonymous one without NAME)
//   ls [-q] [--format F] [-f FILTER] DRIVER and VOLUME NAME; fields Driver, Name, Mountpoint,
//                                   Labels, Scope, Links; filters dangling, name, label, driver
//   inspect [-f F] NAME...          Docker's JSON (CreatedAt, Driver, Labels, Mountpoint, Name,
//                                   Options, Scope)
//   rm [-f] NAME...                 refused while a container uses it (Docker's "volume is in
//                                   use - [ID]"); -f ignores missing volumes
//   prune [-a] [-f]                 unused anonymous volumes (-a: every unused volume)
#include <cstdio>
#include <set>

#include "cli/command.h"
#include "cli/container_state.h"
#include "cli/image_common.h"
#include "cli/inspect_output.h"
#include "containers/disk_usage.h"
#include "containers/kv_file.h"
#include "containers/volumes.h"
#include "format/list_format.h"

namespace imgbuild::cli {
namespace {

struct VolumeArgs {
  std::vector<std::string> labels;
  std::string driver = "local";
  std::vector<std::string> names;
  bool quiet = false, force = false, all = false;
  std::string format;
  std::vector<std::string> filters;
};

// Volume name -> ids of the containers (running or not) whose record mounts it.
Result<std::map<std::string, std::vector<std::string>>> volume_users(const image::Store& store) {
  std::map<std::string, std::vector<std::string>> users;
  ContainerList list = TRY(list_records(store));
  for (const auto& r : list.records) {
    for (const auto& v : r.volumes) users[v].push_back(r.id);
  }
  return users;
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

// `volume ls --filter`: Docker's dangling=true|false, name=SUBSTRING, label=K[=V], driver=local;
// filters of one key match any of their values, all keys must match.
struct VolumeFilters {
  std::map<std::string, std::vector<std::string>> by_key;

  static Result<VolumeFilters> parse(const std::vector<std::string>& texts) {
    VolumeFilters f;
    for (const auto& text : texts) {
      auto eq = text.find('=');
      std::string key = text.substr(0, eq);
      if (eq == std::string::npos ||
          (key != "dangling" && key != "name" && key != "label" && key != "driver")) {
        return fail(ErrorKind::kInvalidArgument, "invalid filter '" + text + "'");
      }
      std::string value = text.substr(eq + 1);
      if (key == "dangling" && value != "true" && value != "false" && value != "1" &&
          value != "0") {
        return fail(ErrorKind::kInvalidArgument,
                    "invalid filter 'dangling=" + value + "': expected true or false");
      }
      f.by_key[key].push_back(value);
    }
    return f;
  }

  bool match(const containers::VolumeInfo& v, bool in_use) const {
    for (const auto& [key, values] : by_key) {
      bool any = false;
      for (const auto& value : values) {
        if (key == "dangling") {
          any = any || ((value == "true" || value == "1") != in_use);
        } else if (key == "name") {
          any = any || v.name.find(value) != std::string::npos;
        } else if (key == "driver") {
          any = any || value == "local";
        } else {
          auto eq = value.find('=');
          auto it = v.labels.find(value.substr(0, eq));
          any = any || (it != v.labels.end() &&
                        (eq == std::string::npos || it->second == value.substr(eq + 1)));
        }
      }
      if (!any) return false;
    }
    return true;
  }
};

Result<int> create(const image::Store& store, const VolumeArgs& a) {
  if (a.driver != "local") {
    return fail(ErrorKind::kUnsupported,
                "create: driver \"" + a.driver + "\" is not supported (only \"local\")");
  }
  if (a.names.size() > 1) {
    return fail(ErrorKind::kInvalidArgument,
                "\"volume create\" requires at most 1 argument: [VOLUME]");
  }
  auto labels = TRY(containers::parse_labels(a.labels, {}));
  std::string name = a.names.empty() ? "" : a.names[0];
  auto info = TRY(containers::create_volume(store, name, containers::VolumeKind::kNamed, labels));
  std::printf("%s\n", info.name.c_str());
  return 0;
}

Result<int> list(const image::Store& store, const VolumeArgs& a) {
  static const nlohmann::json kHeaders = {{"Driver", "DRIVER"},         {"Name", "VOLUME NAME"},
                                          {"Mountpoint", "MOUNTPOINT"}, {"Labels", "LABELS"},
                                          {"Scope", "SCOPE"},           {"Links", "LINKS"}};
  auto format = TRY(format::ListFormat::parse(a.format, "{{.Driver}}\t{{.Name}}", kHeaders));
  auto filters = TRY(VolumeFilters::parse(a.filters));
  auto volumes = TRY(containers::list_volumes(store));
  auto users = TRY(volume_users(store));
  std::vector<nlohmann::json> rows;
  for (const auto& v : volumes) {
    if (!filters.match(v, users.contains(v.name))) continue;
    if (a.quiet) {
      std::printf("%s\n", v.name.c_str());
      continue;
    }
    rows.push_back({{"Driver", "local"},
                    {"Name", v.name},
                    {"Mountpoint", v.mountpoint},
                    {"Labels", labels_text(v.labels)},
                    {"Scope", "local"},
                    {"Links", std::to_string(users[v.name].size())}});
  }
  if (a.quiet) return 0;
  std::fputs(TRY(format.render(rows)).c_str(), stdout);
  return 0;
}

Result<int> remove(const image::Store& store, const VolumeArgs& a) {
  auto users = TRY(volume_users(store));
  int rc = 0;
  for (const auto& name : a.names) {
    if (auto it = users.find(name); it != users.end()) {
      std::string ids;
      for (const auto& id : it->second) ids += (ids.empty() ? "" : ", ") + id;
      rc = report_error(Error(ErrorKind::kAlreadyExists,
                              "remove " + name + ": volume is in use - [" + ids + "]"));
      continue;
    }
    auto st = containers::remove_volume(store, name);
    if (!st) {
      if (!(a.force && st.error().kind() == ErrorKind::kNotFound)) rc = report_error(st.error());
      continue;
    }
    std::printf("%s\n", name.c_str());
  }
  return rc;
}

Result<int> prune(const image::Store& store, const VolumeArgs& a) {
  if (!a.force && !confirm(a.all ? "This will remove all local volumes not used by at least one "
                                   "container."
                                 : "This will remove anonymous local volumes not used by at least "
                                   "one container.")) {
    return 0;
  }
  auto users = TRY(volume_users(store));
  std::vector<std::string> deleted;
  uint64_t reclaimed = 0;
  int rc = 0;
  for (const auto& v : TRY(containers::list_volumes(store))) {
    if (users.contains(v.name)) continue;
    if (!a.all && v.kind != containers::VolumeKind::kAnonymous) continue;
    uint64_t size = containers::tree_bytes(v.mountpoint);
    if (auto st = containers::remove_volume(store, v.name); !st) {
      rc = report_error(st.error());
      continue;
    }
    deleted.push_back(v.name);
    reclaimed += size;
  }
  print_prune_report("Deleted Volumes", deleted, reclaimed);
  return rc;
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto a = std::make_shared<VolumeArgs>();
  auto* create_cmd = sub.add_subcommand("create", "Create a volume");
  create_cmd->add_option("--label", a->labels, "Set metadata for a volume (K=V)")
      ->allow_extra_args(false);
  create_cmd->add_option("-d,--driver", a->driver, "Volume driver name (only local)");
  create_cmd->add_option("VOLUME", a->names, "Volume name (default: a generated one)");
  auto* ls_cmd = sub.add_subcommand("ls", "List volumes")->alias("list");
  ls_cmd->add_flag("-q,--quiet", a->quiet, "Only display volume names");
  ls_cmd->add_option("--format", a->format, "table, table TEMPLATE, json or a Go template");
  ls_cmd
      ->add_option("-f,--filter", a->filters,
                   "Filter: dangling=true|false, name=NAME, label=K[=V], driver=local")
      ->allow_extra_args(false);
  auto* inspect_cmd = sub.add_subcommand("inspect", "Display detailed information on volumes");
  inspect_cmd->add_option("-f,--format", a->format, "Format the output using a Go template");
  inspect_cmd->add_option("VOLUME", a->names, "Volume names")->required();
  auto* rm_cmd = sub.add_subcommand("rm", "Remove one or more volumes")->alias("remove");
  rm_cmd->add_flag("-f,--force", a->force, "Do not fail on volumes that do not exist");
  rm_cmd->add_option("VOLUME", a->names, "Volume names")->required();
  auto* prune_cmd = sub.add_subcommand("prune", "Remove unused local volumes");
  prune_cmd->add_flag("-a,--all", a->all, "Remove all unused volumes, not just anonymous ones");
  prune_cmd->add_flag("-f,--force", a->force, "Do not prompt for confirmation");
  sub.require_subcommand(1);
  return [=, &globals]() -> int {
    auto store = open_store(globals);
    if (!store) return report_error(store.error());
    if (inspect_cmd->parsed()) {
      return print_inspect(
          a->names, a->format, [&](const std::string& name) -> Result<nlohmann::json> {
            return containers::inspect_json(TRY(containers::load_volume(*store, name)));
          });
    }
    Result<int> rc = 0;
    if (create_cmd->parsed()) rc = create(*store, *a);
    if (ls_cmd->parsed()) rc = list(*store, *a);
    if (rm_cmd->parsed()) rc = remove(*store, *a);
    if (prune_cmd->parsed()) rc = prune(*store, *a);
    if (!rc) return report_error(rc.error());
    return *rc;
  };
}

}  // namespace

IMGBUILD_COMMAND(volume, Command{
                             .name = "volume",
                             .description = "Manage volumes (create, ls, inspect, rm, prune)",
                             .setup = setup,
                         });

}  // namespace imgbuild::cli
