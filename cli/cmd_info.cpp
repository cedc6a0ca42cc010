// imgbuild info [--format F]: what this imgbuild can do on this host, as `docker info` and
// `podman info` tell it: the store, whether it runs rootless and with which id maps, the cgroup
// layout and whether limits work, FUSE access and passthrough, and the private network's needs.
// Runs in the caller's own namespaces (it reports on entering them; runtime/rootless.h), so it
// answers even when entering fails. --format json prints the object; a Go template picks from it.
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "base/fs.h"
#include "base/subprocess.h"
#include "base/user_namespace.h"
#include "cli/command.h"
#include "format/list_format.h"
#include "runtime/id_map.h"

namespace imgbuild::cli {
namespace {

constexpr long kCgroup2Magic = 0x63677270;

bool is_cgroup2(const char* path) {
  struct statfs sfs {};
  return ::statfs(path, &sfs) == 0 && sfs.f_type == kCgroup2Magic;
}

bool accessible(const char* dev) { return ::access(dev, R_OK | W_OK) == 0; }

// Kernel FUSE passthrough (fs/passthrough.h): Linux 6.9+, and the kernel registers backing files
// only for CAP_SYS_ADMIN in the initial user namespace, so never rootless.
std::string passthrough_state(const std::string& release, bool rootless) {
  int major = 0, minor = 0;
  std::sscanf(release.c_str(), "%d.%d", &major, &minor);
  if (major < 6 || (major == 6 && minor < 9)) return "no (needs Linux 6.9 or later)";
  if (rootless) return "no (the kernel allows it only to root of the initial user namespace)";
  return "yes (if the kernel has CONFIG_FUSE_PASSTHROUGH)";
}

// FUSE over io_uring (fs/uring_transport.h): offered by the kernel only while the fuse module's
// enable_uring parameter (Linux 6.14+, CONFIG_FUSE_IO_URING) is Y.
std::string io_uring_state() {
  auto value = fs::read_file("/sys/module/fuse/parameters/enable_uring");
  if (!value) return "no (needs Linux 6.14 or later with CONFIG_FUSE_IO_URING)";
  if (value->starts_with("Y")) return "yes";
  return "no (off: root can turn it on with echo Y > /sys/module/fuse/parameters/enable_uring)";
}

nlohmann::json gather(const GlobalOptions& globals) {
  struct utsname uts {};
  ::uname(&uts);
  bool rootless = ::geteuid() != 0 || in_user_namespace();
  nlohmann::json info = {{"Version", "0.1.0"},
                         {"Store", globals.root},
                         {"Kernel", uts.release},
                         {"Rootless", rootless}};
  if (rootless) {
    nlohmann::json ns = {};
    auto plan = runtime::plan_id_maps_for_current_user();
    if (plan) {
      ns["UIDMap"] = runtime::format_id_map(plan->uids);
      ns["GIDMap"] = runtime::format_id_map(plan->gids);
      ns["SubordinateIds"] = plan->subordinate;
      ns["Mode"] = plan->subordinate ? "subordinate ids (/etc/subuid, /etc/subgid)"
                                     : "single id: no /etc/subuid entry; images whose files "
                                       "have other owners cannot be used";
    } else {
      ns["Error"] = plan.error().message();
    }
    ns["Newuidmap"] = find_system_program("newuidmap");
    std::string pid_file = globals.root + "/rootless/pause.pid";
    auto pid = fs::read_file(pid_file);
    ns["PausePid"] = pid ? std::atoi(pid->c_str()) : 0;
    info["UserNamespace"] = ns;
  }
  std::string layout = is_cgroup2("/sys/fs/cgroup")           ? "v2"
                       : is_cgroup2("/sys/fs/cgroup/unified") ? "v1 (hybrid)"
                                                              : "v1";
  bool limits = !rootless || (layout == "v2" && ::access("/sys/fs/cgroup", W_OK) == 0);
  info["Cgroups"] = {
      {"Version", layout},
      {"Limits", limits ? "yes" : "no (rootless: needs a delegated cgroup v2 hierarchy)"}};
  info["Fuse"] = {{"DeviceAccessible", accessible("/dev/fuse")},
                  {"Passthrough", passthrough_state(uts.release, rootless)},
                  {"IoUring", io_uring_state()}};
  info["Network"] = {{"Slirp4netns", find_system_program("slirp4netns")},
                     {"TunAccessible", accessible("/dev/net/tun")}};
  return info;
}

void print_text(const nlohmann::json& info) {
  auto str = [](const nlohmann::json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  std::printf("Version:   %s\nStore:     %s\nKernel:    %s\nRootless:  %s\n",
              str(info["Version"]).c_str(), str(info["Store"]).c_str(), str(info["Kernel"]).c_str(),
              info["Rootless"].get<bool>() ? "yes" : "no");
  if (info.contains("UserNamespace")) {
    const auto& ns = info["UserNamespace"];
    for (const char* key : {"Mode", "UIDMap", "GIDMap", "Newuidmap", "PausePid", "Error"}) {
      if (ns.contains(key)) std::printf("  %-10s %s\n", key, str(ns[key]).c_str());
    }
  }
  std::printf("Cgroups:   %s, limits: %s\n", str(info["Cgroups"]["Version"]).c_str(),
              str(info["Cgroups"]["Limits"]).c_str());
  std::printf("FUSE:      /dev/fuse %s; passthrough: %s; io_uring: %s\n",
              info["Fuse"]["DeviceAccessible"].get<bool>() ? "accessible" : "NOT accessible",
              str(info["Fuse"]["Passthrough"]).c_str(), str(info["Fuse"]["IoUring"]).c_str());
  std::string slirp = str(info["Network"]["Slirp4netns"]);
  std::printf("Network:   slirp4netns %s; /dev/net/tun %s\n",
              slirp.empty() ? "missing" : slirp.c_str(),
              info["Network"]["TunAccessible"].get<bool>() ? "accessible" : "NOT accessible");
}

int run_info(const GlobalOptions& globals, const std::string& format_flag) {
  nlohmann::json info = gather(globals);
  if (format_flag.empty()) {
    print_text(info);
    return 0;
  }
  auto tmpl = format::parse_format_template(format_flag == "json" ? "{{json .}}" : format_flag);
  if (!tmpl) return report_error(tmpl.error());
  auto out = tmpl->execute(info);
  if (!out) return report_error(out.error());
  std::printf("%s\n", out->c_str());
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(info,
                 Command{
                     .name = "info",
                     .description = "Show what imgbuild can do here (rootless, cgroups, FUSE)",
                     .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                       auto format_flag = std::make_shared<std::string>();
                       sub.add_option("-f,--format", *format_flag,
                                      "Format the output using a Go template, or json");
                       return [format_flag, &globals] { return run_info(globals, *format_flag); };
                     },
                     .host_namespaces = true,
                 });

}  // namespace imgbuild::cli
