// imgbuild run [OPTIONS] IMAGE [COMMAND [ARG...]]: runs a command in a new container, with
// Docker's flags. Exit codes as Docker: the command's, 125 when imgbuild itself failed, 126 when
// the command cannot be executed, 127 when it was not found.
#include <unistd.h>

#include <cstdio>

#include "base/fs.h"
#include "builder/dockerfile/instructions.h"
#include "cli/command.h"
#include "cli/container_state.h"
#include "cli/registry_progress.h"
#include "cli/run_command.h"
#include "cli/run_mounts.h"
#include "containers/extras.h"
#include "containers/kv_file.h"
#include "containers/launch.h"
#include "runtime/capabilities.h"
#include "runtime/etc_files.h"
#include "runtime/port_forwarder.h"

namespace imgbuild::cli {
namespace {

using containers::ContainerExtras;
using containers::CreateOptions;

struct RunArgs {
  bool rm = false, detach = false, interactive = false, tty = false, read_only = false;
  bool lazy = false;
  std::string name, workdir, user, hostname, entrypoint, network = "bridge", memory;
  std::string pull = "missing";
  std::string stop_signal;
  int stop_timeout = -1;
  std::vector<std::string> tmpfs;
  std::vector<std::string> env, env_files, volumes, publish, security_opts, cap_add, cap_drop;
  std::vector<std::string> ulimits, add_hosts, labels, label_files, mounts;
  std::string shm_size;
  bool privileged = false;
  bool init = false;
  std::string restart = "no";
  std::string health_cmd, health_interval, health_timeout, health_start_period;
  int health_retries = 0;
  bool no_healthcheck = false;
  bool publish_all = false;
  int64_t pids_limit = 0;
  double cpus = 0;
};

// Binds and tmpfs mounts go into the spec; volumes into extras (resolved in the store later).
void add_mount(const MountRequest& m, CreateOptions& o, ContainerExtras& extras) {
  switch (m.type) {
    case MountRequest::Type::kBind:
      o.spec.mounts.push_back({m.source, m.target, m.read_only});
      break;
    case MountRequest::Type::kTmpfs: o.spec.tmpfs_mounts.push_back({m.target, m.tmpfs_size}); break;
    case MountRequest::Type::kVolume:
      extras.volumes.push_back({m.source, m.target, m.read_only, m.no_copy});
      break;
  }
}

// --health-* over the image's HEALTHCHECK (each flag replaces its field), or --no-healthcheck.
Result<containers::HealthConfig> parse_health_flags(const RunArgs& a) {
  containers::HealthConfig h;
  auto duration = [](const std::string& flag, const std::string& text) -> Result<int64_t> {
    if (text.empty()) return int64_t{0};
    int64_t ns = TRY(builder::dockerfile::parse_go_duration(text));
    if (ns < 0) return fail(ErrorKind::kInvalidArgument, flag + " cannot be negative");
    if (ns != 0 && ns < 1'000'000) {
      return fail(ErrorKind::kInvalidArgument, flag + " cannot be less than 1ms");
    }
    return ns;
  };
  h.interval_ns = TRY(duration("--health-interval", a.health_interval));
  h.timeout_ns = TRY(duration("--health-timeout", a.health_timeout));
  h.start_period_ns = TRY(duration("--health-start-period", a.health_start_period));
  if (a.health_retries < 0) {
    return fail(ErrorKind::kInvalidArgument, "--health-retries cannot be negative");
  }
  h.retries = a.health_retries;
  if (a.no_healthcheck) {
    if (!a.health_cmd.empty() || h != containers::HealthConfig{}) {
      return fail(ErrorKind::kInvalidArgument,
                  "--no-healthcheck conflicts with --health-* options");
    }
    h.test = {"NONE"};
  } else if (!a.health_cmd.empty()) {
    h.test = {"CMD-SHELL", a.health_cmd};
  }
  return h;
}

Result<CreateOptions> build_options(const RunArgs& a, const std::vector<std::string>& rest,
                                    bool entrypoint_given, RunMode mode, ContainerExtras& extras) {
  if (rest.empty()) {
    return fail(ErrorKind::kInvalidArgument, std::string("\"") +
                                                 (mode == RunMode::kCreate ? "create" : "run") +
                                                 "\" requires at least 1 argument: IMAGE");
  }
  CreateOptions o;
  o.image = rest[0];
  o.pull = TRY(containers::parse_pull_policy(a.pull));
  o.name = a.name;
  o.auto_remove = a.rm;
  o.detached = a.detach;
  o.overrides.cmd.assign(rest.begin() + 1, rest.end());
  if (entrypoint_given) {
    o.overrides.entrypoint =
        a.entrypoint.empty() ? std::vector<std::string>{} : std::vector<std::string>{a.entrypoint};
  }
  for (const auto& f : a.env_files) {
    auto env = TRY(containers::read_kv_file(f, containers::KvFileKind::kEnv));
    o.overrides.env.insert(o.overrides.env.end(), env.begin(), env.end());
  }
  for (const auto& e : a.env) {
    if (e.find('=') == std::string::npos) {
      if (const char* v = std::getenv(e.c_str())) o.overrides.env.push_back(e + "=" + v);
      continue;
    }
    o.overrides.env.push_back(e);
  }
  if (!a.workdir.empty()) o.overrides.working_dir = a.workdir;
  if (!a.user.empty()) o.overrides.user = a.user;
  o.spec.hostname = a.hostname;
  auto network = runtime::parse_network_mode(a.network);
  if (!network) {
    return fail(ErrorKind::kInvalidArgument,
                "network " + a.network + " not found (supported: bridge, none, host)");
  }
  o.spec.network = *network;
  for (const auto& p : a.publish) {
    auto ports = TRY(runtime::parse_port_spec(p));
    o.ports.insert(o.ports.end(), ports.begin(), ports.end());
  }
  o.publish_all = a.publish_all;
  if (o.spec.network == runtime::NetworkMode::kHost && (!o.ports.empty() || o.publish_all)) {
    std::fprintf(stderr, "WARNING: Published ports are discarded when using host network mode\n");
    o.ports.clear();
    o.publish_all = false;
  }
  for (const auto& v : a.volumes) add_mount(TRY(parse_volume_flag(v)), o, extras);
  for (const auto& m : a.mounts) add_mount(TRY(parse_mount_flag(m)), o, extras);
  o.spec.read_only_rootfs = a.read_only;
  for (const auto& opt : a.security_opts) {
    // Docker also takes "seccomp:unconfined" (the old separator).
    if (opt == "seccomp=unconfined" || opt == "seccomp:unconfined") {
      o.spec.seccomp = false;
    } else if (opt == "no-new-privileges" || opt == "no-new-privileges=true" ||
               opt == "no-new-privileges:true") {
      // Always on here.
    } else {
      return fail(ErrorKind::kInvalidArgument,
                  "invalid --security-opt \"" + opt +
                      "\": supported are seccomp=unconfined and no-new-privileges (a custom "
                      "seccomp profile, AppArmor and SELinux options are not)");
    }
  }
  if (a.privileged) {
    // All capabilities and no seccomp filter (Docker also lifts the masked paths and the device
    // policy; those stay).
    o.spec.capabilities = runtime::all_capabilities();
    o.spec.seccomp = false;
  } else if (!a.cap_add.empty() || !a.cap_drop.empty()) {
    o.spec.capabilities = TRY(runtime::resolve_capabilities(a.cap_add, a.cap_drop));
  }
  for (const auto& t : a.tmpfs) add_mount(TRY(parse_tmpfs_flag(t)), o, extras);
  if (!a.stop_signal.empty()) {
    TRY(parse_signal(a.stop_signal));
    o.stop_signal = a.stop_signal;
  }
  o.stop_timeout = a.stop_timeout;
  o.spec.tty = a.tty;
  o.spec.init = a.init;
  o.spec.ulimits = TRY(runtime::parse_ulimit_flags(a.ulimits));
  if (!a.shm_size.empty()) {
    auto bytes = parse_size(a.shm_size);
    if (!bytes || *bytes <= 0) {
      return fail(ErrorKind::kInvalidArgument,
                  "invalid argument \"" + a.shm_size +
                      "\" for \"--shm-size\" flag: expected a size such as 64m");
    }
    o.spec.shm_size_bytes = static_cast<uint64_t>(*bytes);
  }
  for (const auto& h : a.add_hosts) o.spec.extra_hosts.push_back(TRY(runtime::parse_extra_host(h)));
  if (!a.memory.empty()) {
    int64_t bytes = TRY(parse_size(a.memory));
    if (bytes < 6 * 1024 * 1024) {
      return fail(ErrorKind::kInvalidArgument,
                  "Minimum memory limit allowed is 6MB (got " + a.memory + ")");
    }
    o.spec.resources.memory_bytes = bytes;
  }
  if (a.pids_limit != 0) o.spec.resources.pids_limit = a.pids_limit;
  if (a.cpus < 0) return fail(ErrorKind::kInvalidArgument, "--cpus must be positive");
  if (a.cpus > 0) o.spec.resources.cpus = a.cpus;
  o.health = TRY(parse_health_flags(a));
  o.restart_policy = TRY(containers::parse_restart_policy(a.restart));
  if (o.restart_policy.mode != containers::RestartMode::kNo && a.rm) {
    return fail(ErrorKind::kInvalidArgument, "Conflicting options: --restart and --rm");
  }
  o.lazy = a.lazy;
  if (a.detach && a.rm && a.interactive) {
    // Docker allows it; stdin is simply not attached to a detached container.
  }
  return o;
}

}  // namespace

Runner setup_run(CLI::App& sub, const GlobalOptions& globals, RunMode mode) {
  auto args = std::make_shared<RunArgs>();
  sub.prefix_command();  // IMAGE ends the options; everything after it is the command
  sub.add_flag("--rm", args->rm, "Remove the container when it exits");
  sub.add_flag("--lazy", args->lazy,
               "Run a registry image before it has downloaded (its eStargz layers' files are "
               "fetched as they are read)");
  sub.add_flag("-d,--detach", args->detach, "Run in the background and print the container ID");
  sub.add_flag("-i,--interactive", args->interactive, "Keep stdin open");
  sub.add_flag("-t,--tty", args->tty, "Allocate a pseudo-TTY");
  sub.add_option("--name", args->name, "Name of the container");
  sub.add_option("--pull", args->pull, "Pull the image: missing (default), always or never");
  sub.add_option("-e,--env", args->env, "Set environment variables (K=V)")->allow_extra_args(false);
  sub.add_option("--env-file", args->env_files, "Read environment variables from a file")
      ->allow_extra_args(false);
  sub.add_option("-w,--workdir", args->workdir, "Working directory inside the container");
  sub.add_option("-u,--user", args->user, "User (name|uid[:group|gid])");
  sub.add_option("--hostname", args->hostname, "Container host name");
  auto* ep = sub.add_option("--entrypoint", args->entrypoint, "Override the image's ENTRYPOINT");
  sub.add_option("--network", args->network,
                 "Network: bridge (default: own namespace, outbound access through slirp4netns), "
                 "none (loopback only) or host");
  sub.add_option("-v,--volume", args->volumes,
                 "Bind mount a host path or mount a volume (SRC|NAME:DST[:ro], or DST)")
      ->allow_extra_args(false);
  sub.add_option("--mount", args->mounts,
                 "Attach a mount (type=bind|volume|tmpfs,source=,target=,readonly)")
      ->allow_extra_args(false);
  sub.add_option("-p,--publish", args->publish,
                 "Publish a container's port to the host ([IP:][HOST_PORT:]PORT[/udp])")
      ->allow_extra_args(false);
  sub.add_flag("-P,--publish-all", args->publish_all,
               "Publish every exposed port to a free host port");
  sub.add_flag("--read-only", args->read_only, "Mount the root filesystem read-only");
  sub.add_option("--security-opt", args->security_opts,
                 "seccomp=unconfined (no seccomp filter; default: Docker's profile)")
      ->allow_extra_args(false);
  sub.add_option("--cap-add", args->cap_add, "Add Linux capabilities (NET_ADMIN, ALL, ...)")
      ->allow_extra_args(false);
  sub.add_option("--cap-drop", args->cap_drop, "Drop Linux capabilities (CHOWN, ALL, ...)")
      ->allow_extra_args(false);
  sub.add_flag("--privileged", args->privileged,
               "All capabilities, no seccomp filter (masked paths and device policy stay)");
  sub.add_option("--tmpfs", args->tmpfs, "Mount a tmpfs (PATH[:size=64m])")
      ->allow_extra_args(false);
  sub.add_option("--stop-signal", args->stop_signal,
                 "Signal to stop the container (default SIGTERM)");
  sub.add_option("--stop-timeout", args->stop_timeout,
                 "Seconds to wait for the container to stop before SIGKILL (default 10)");
  sub.add_option("--ulimit", args->ulimits,
                 "Ulimit options (NAME=SOFT[:HARD], e.g. nofile=1024:2048)")
      ->allow_extra_args(false);
  sub.add_option("--shm-size", args->shm_size, "Size of /dev/shm (default 64m)");
  sub.add_option("--add-host", args->add_hosts, "Add a custom host-to-IP mapping (HOST:IP)")
      ->allow_extra_args(false);
  sub.add_option("-l,--label", args->labels, "Set meta data on a container (K=V)")
      ->allow_extra_args(false);
  sub.add_option("--label-file", args->label_files, "Read in a line delimited file of labels")
      ->allow_extra_args(false);
  sub.add_option("--health-cmd", args->health_cmd, "Command to run to check health");
  sub.add_option("--health-interval", args->health_interval,
                 "Time between running the check (ms|s|m|h) (default 30s)");
  sub.add_option("--health-timeout", args->health_timeout,
                 "Maximum time to allow one check to run (ms|s|m|h) (default 30s)");
  sub.add_option("--health-start-period", args->health_start_period,
                 "Start period for the container to initialize before failures count (ms|s|m|h)");
  sub.add_option("--health-retries", args->health_retries,
                 "Consecutive failures needed to report unhealthy (default 3)");
  sub.add_flag("--no-healthcheck", args->no_healthcheck,
               "Disable any container-specified HEALTHCHECK");
  sub.add_option("--restart", args->restart,
                 "Restart policy: no (default), on-failure[:max-retries], always, unless-stopped");
  sub.add_flag("--init", args->init,
               "Run an init inside the container that forwards signals and reaps processes");
  sub.add_option("-m,--memory", args->memory, "Memory limit (e.g. 32m)");
  sub.add_option("--pids-limit", args->pids_limit, "Process limit (-1 unlimited)");
  sub.add_option("--cpus", args->cpus, "Number of CPUs (CFS quota)");
  return [args, ep, &sub, &globals, mode]() -> int {
    ContainerExtras extras;
    auto options = build_options(*args, sub.remaining(), ep->count() > 0, mode, extras);
    if (!options) return report_error(options.error(), 125);
    // A created container is started detached (`start`) or attached (`start -a`) later.
    if (mode == RunMode::kCreate) options->detached = true;
    // A host port in use is refused before any container exists (the monitor binds for real).
    if (!options->ports.empty() && mode == RunMode::kRun) {
      auto probe_ports = options->ports;
      if (auto probe = runtime::PortForwarder::bind(probe_ports); !probe) {
        return report_error(probe.error(), 125);
      }
    }
    if (auto labels = containers::parse_labels(args->labels, args->label_files); labels) {
      extras.labels = std::move(*labels);
    } else {
      return report_error(labels.error(), 125);
    }
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error(), 125);
    RegistryProgress progress(stderr, ProgressOutput::kShown);
    options->pull_progress = &progress;
    std::unique_ptr<fs::Mount> mount;
    bool foreground = mode == RunMode::kRun && !args->detach;
    auto record = containers::create_container(*store, *options, foreground ? &mount : nullptr);
    if (!record) return report_error(record.error(), 125);
    if (auto st = containers::add_container_extras(*store, *record, extras, mount.get()); !st) {
      mount.reset();
      (void)remove_container_files(*store, *record);
      return report_error(st.error(), 125);
    }
    if (mode == RunMode::kCreate || args->detach) {
      if (mode == RunMode::kRun) {
        containers::ExecMonitorLauncher launcher;
        auto started = containers::start_detached(*store, *record, launcher);
        if (!started) return report_error(started.error().error, started.error().code);
      }
      std::printf("%s\n", record->id.c_str());
      return 0;
    }
    ContainerRecord kept = *record;
    int rc = containers::run_foreground(*store, std::move(*record), args->interactive,
                                        std::move(mount), [](const Error& e) { report_error(e); });
    // --rm also removes the container's anonymous volumes, as Docker does.
    if (args->rm && !kept.volumes.empty() && !fs::exists(container_dir(*store, kept.id))) {
      if (auto st = containers::remove_anonymous_volumes(*store, kept); !st)
        report_error(st.error());
    }
    return rc;
  };
}

IMGBUILD_COMMAND(run, Command{
                          .name = "run",
                          .description = "Run a command in a new container",
                          .setup =
                              [](CLI::App& sub, const GlobalOptions& globals) {
                                return setup_run(sub, globals, RunMode::kRun);
                              },
                      });

}  // namespace imgbuild::cli
