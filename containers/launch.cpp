#include "containers/launch.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "base/fs.h"
#include "base/log.h"
#include "base/scope_guard.h"
#include "base/sys.h"
#include "containers/extras.h"
#include "containers/record_store.h"
#include "containers/restart_policy.h"
#include "containers/stop.h"
#include "image/image_config.h"
#include "runtime/port_forwarder.h"

namespace imgbuild::containers {
Result<LazyMount> container_lazy_mount(const image::Store& store, const ContainerRecord& record) {
  auto source = TRY(image::Reference::parse(record.lazy_source));
  if (!source.digest) {
    return fail(ErrorKind::kCorrupt, "container " + record.id.substr(0, 12) + ": lazy source " +
                                         record.lazy_source + " has no digest");
  }
  image::Image img = TRY(store.load_image(*source.digest));
  return TRY_CTX(prepare_lazy_mount(store, source, std::move(img), registry::ClientOptions{}),
                 "mounting " + record.lazy_source + " lazily");
}

Result<fs::MountOptions> container_mount_options(const image::Store& store,
                                                 const ContainerRecord& record,
                                                 const LazyMount* lazy) {
  fs::MountOptions options;
  options.lowers = record.lowers;
  std::optional<LazyMount> own;
  if (lazy == nullptr && !record.lazy_source.empty()) {
    own = TRY(container_lazy_mount(store, record));
    lazy = &*own;
  }
  if (lazy != nullptr) {
    use_lazy_mount(*lazy, options);
  }
  options.upper = fs::join(container_dir(store, record.id), "upper");
  options.fsname = "imgfs-" + record.id.substr(0, 12);
  return options;
}

Result<std::unique_ptr<fs::Mount>> mount_container(const image::Store& store,
                                                   const ContainerRecord& record,
                                                   const LazyMount* lazy) {
  auto options = TRY(container_mount_options(store, record, lazy));
  return TRY_CTX(fs::Mount::create(container_rootfs(store, record.id), options),
                 "mounting the container's root filesystem");
}

Result<ContainerRecord> create_container(const image::Store& store, const CreateOptions& o,
                                         std::unique_ptr<fs::Mount>* keep_mount) {
  auto lease = TRY(store.lease());
  std::optional<LazyMount> lazy;
  image::Image img;
  std::vector<std::string> lowers;  // top first
  if (o.lazy) {
    registry::ClientOptions client;
    client.progress = o.pull_progress;
    lazy = TRY(prepare_lazy_mount(store, o.image, client));
    img = lazy->image;
    lowers = lazy->lowers;
  } else {
    img = TRY(ensure_image(store, o.image, o.pull, o.pull_progress));
    std::vector<std::string> layers = TRY(store.prepare_layers(img));
    lowers.assign(layers.rbegin(), layers.rend());
  }
  log::debug("run: image " + img.manifest_digest.short_hex() + " resolved, layers ready");

  ContainerRecord record;
  record.id = TRY(new_container_id());
  record.name = TRY(claim_container_name(store, o.name));
  record.image = o.image;
  record.image_id = img.config_digest.str();
  record.manifest_digest = img.manifest_digest.str();
  record.created = image::rfc3339_now();
  record.stop_signal = o.stop_signal.empty() ? img.config.config.stop_signal : o.stop_signal;
  record.stop_timeout = o.stop_timeout;
  record.auto_remove = o.auto_remove;
  record.detached = o.detached;
  record.restart_policy = o.restart_policy;
  HealthConfig image_health;
  if (img.config.config.healthcheck) {
    image_health = TRY(health_config_from_json(*img.config.config.healthcheck));
  }
  if (auto health = merge_health_config(image_health, o.health); health.enabled()) {
    record.health = health;
  }
  record.lowers = std::move(lowers);
  if (lazy) {
    // Pinned: a later mount fetches from this manifest, wherever the tag has moved.
    auto source = TRY(image::Reference::parse(o.image));
    source.tag.clear();
    source.digest = img.manifest_digest;
    record.lazy_source = source.str();
  }
  record.spec = o.spec;
  record.spec.id = record.id;
  record.ports = o.ports;
  if (o.publish_all) {
    for (const auto& exposed : img.config.config.exposed_ports) {
      runtime::PortMapping m = TRY(runtime::parse_exposed_port(exposed));
      bool explicit_mapping = std::any_of(record.ports.begin(), record.ports.end(), [&](auto& p) {
        return p.container_port == m.container_port && p.protocol == m.protocol;
      });
      if (!explicit_mapping) record.ports.push_back(m);
    }
  }
  if (record.spec.hostname.empty() && record.spec.network != runtime::NetworkMode::kHost) {
    record.spec.hostname = record.id.substr(0, 12);
  }

  std::string dir = container_dir(store, record.id);
  TRY(fs::make_dirs(store.containers_dir()));
  TRY(sys::mkdir_at(AT_FDCWD, dir, 0700));
  ScopeGuard cleanup([&] { (void)remove_container_files(store, record); });
  image::GcRecord refs;
  refs.manifests.push_back(img.manifest_digest);
  TRY(store.write_gc_record(fs::join(dir, "refs.json"), refs));
  for (const char* sub : {"upper", "rootfs", "etc"}) {
    TRY(sys::mkdir_at(AT_FDCWD, fs::join(dir, sub), 0755));
  }
  {
    auto mount = TRY(mount_container(store, record, lazy ? &*lazy : nullptr));
    log::debug("run: container files written, rootfs mounted");
    TRY(runtime::apply_image_config(container_rootfs(store, record.id), img.config.config,
                                    o.overrides, record.spec));
    if (keep_mount != nullptr) {
      record.status = ContainerStatus::kRunning;
      record.monitor_pid = ::getpid();
      TRY(save_record(store, record));
      *keep_mount = std::move(mount);
    } else {
      TRY(mount->unmount());
      TRY(save_record(store, record));
    }
  }
  cleanup.dismiss();
  log::debug("run: container " + record.id.substr(0, 12) + " created");
  return record;
}

int run_foreground(const image::Store& store, ContainerRecord record, bool stdin_open,
                   std::unique_ptr<fs::Mount> mounted, const ErrorSink& report) {
  auto report_error = [&report](const Error& e, int code = 1) {
    report(e);
    return code;
  };
  Result<std::unique_ptr<fs::Mount>> mount = std::move(mounted);
  if (!*mount) {
    mount = mount_container(store, record);
    if (!mount) {
      (void)record_exit(store, record, 125);
      return report_error(mount.error(), 125);
    }
    record.status = ContainerStatus::kRunning;
    record.monitor_pid = ::getpid();
    (void)save_record(store, record);
  }

  runtime::ProcessSpec spec = record.spec;
  spec.stdin_open = stdin_open;
  spec.stdin_fd = 0;
  spec.stdout_fd = 1;
  spec.stderr_fd = 2;
  spec.id = record.id;  // names the cgroup, which stop checks
  spec.etc_dir = fs::join(container_dir(store, record.id), "etc");
  RestartBackoff backoff;
  Result<int> code = 0;
  int failure_code = 0;  // Docker's exit code when code is an error
  for (;;) {
    // Bound for each run, as the detached monitor does: a port in use fails before it starts.
    auto forwarder = runtime::PortForwarder::bind(record.ports);
    if (!forwarder) {
      code = std::unexpected(forwarder.error());
      failure_code = 125;
      break;
    }
    auto started_at = std::chrono::steady_clock::now();
    code = runtime::run_container(
        container_rootfs(store, record.id), spec,
        [&](pid_t pid) {
          log::debug("run: container process started, pid " + std::to_string(pid));
          if (auto now = load_record(store, record.id)) record.name = now->name;
          record.status = ContainerStatus::kRunning;
          record.container_pid = pid;
          record.started = image::rfc3339_now();
          (void)save_record(store, record);
          // A stop that came while the container was being restarted found no process.
          if (stop_requested(store, record.id)) ::kill(pid, SIGKILL);
          if (!record.ports.empty()) {
            if (auto started = (*forwarder)->start(pid); !started) {
              report(started.error().with_context("publishing ports"));
              ::kill(pid, SIGKILL);
            }
          }
        },
        [&](int) {
          // A signal the user sends is a manual stop, which ends the restart policy (Docker's
          // kill through its API, which the attached CLI's signal proxy uses, is one).
          if (record.restart_policy.mode != RestartMode::kNo) {
            (void)request_stop(store, record.id);
          }
        });
    log::debug("run: container exited");
    (*forwarder)->stop();
    // A restart that fails to start ends the restarting (as Docker's restart manager).
    if (!code) {
      failure_code = runtime::exit_code_for_start_error(code.error());
      break;
    }
    if (!should_restart(record.restart_policy, *code, record.restart_count,
                        stop_requested(store, record.id))) {
      break;
    }
    auto ran_for = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started_at);
    record_restarting(store, record, *code);
    if (sleep_unless_stopped(store, record.id, backoff.next(ran_for))) break;
  }
  auto unmounted = (*mount)->unmount();
  mount->reset();
  log::debug("run: rootfs unmounted");
  int exit_code = code ? *code : failure_code;
  auto finished = record_exit(store, record, exit_code);
  if (!code) return report_error(code.error(), exit_code);
  if (!unmounted) report(unmounted.error());
  if (!finished) report(finished.error());
  log::debug("run: done");
  return exit_code;
}

std::expected<void, StartFailure> start_detached(const image::Store& store,
                                                 const ContainerRecord& record,
                                                 MonitorLauncher& launcher) {
  auto ready = launcher.launch(store, record.id);
  if (!ready) return std::unexpected(StartFailure{std::move(ready).error(), 125});
  if (ready->code != 0) {
    if (record.auto_remove) (void)remove_container_files(store, record);
    return std::unexpected(StartFailure{Error(ErrorKind::kRuntime, ready->message), ready->code});
  }
  return {};
}

Status prepare_start(const image::Store& store, ContainerRecord& record) {
  TRY(clear_stop_request(store, record.id));
  if (record.status != ContainerStatus::kCreated) {
    auto unmounted = fs::force_unmount(container_rootfs(store, record.id));
    if (!unmounted && unmounted.error().kind() != ErrorKind::kNotFound) return unmounted;
  }
  record.restart_count = 0;
  return save_record(store, record);
}

namespace {

// The record of a run that ended: status, exit code, when. `rename` may have changed the name on
// disk meanwhile.
void note_end(const image::Store& store, ContainerRecord& record, ContainerStatus status,
              int code) {
  if (auto now = load_record(store, record.id)) record.name = now->name;
  record.status = status;
  record.exit_code = code;
  record.finished = image::rfc3339_now();
  record.container_pid = 0;
}

}  // namespace

Status record_exit(const image::Store& store, ContainerRecord& record, int code) {
  note_end(store, record, ContainerStatus::kExited, code);
  if (record.auto_remove) {
    // --rm also removes the container's anonymous volumes, as Docker does.
    TRY(remove_container_files(store, record));
    return remove_anonymous_volumes(store, record);
  }
  return save_record(store, record);
}

void record_restarting(const image::Store& store, ContainerRecord& record, int code) {
  note_end(store, record, ContainerStatus::kRestarting, code);
  ++record.restart_count;
  (void)save_record(store, record);
}

}  // namespace imgbuild::containers
