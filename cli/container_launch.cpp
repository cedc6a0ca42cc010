#include "cli/container_launch.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <expected>
#include <functional>
#include <thread>

#include "base/fs.h"
#include "base/log.h"
#include "base/scope_guard.h"
#include "base/sys.h"
#include "base/terminal_text.h"
#include "cli/command.h"
#include "containers/health_monitor.h"
#include "containers/restart_policy.h"
#include "image/image_config.h"
#include "runtime/port_forwarder.h"

namespace imgbuild::cli {
namespace {

// Writes "<code> <message>" (or "0 ok") to the ready pipe of `run -d`.
void report_ready(int fd, int code, const std::string& message) {
  if (fd < 0) return;
  std::string line = std::to_string(code) + " " + message;
  (void)sys::write_all(fd, line, "ready pipe");
}

Status finish(const image::Store& store, ContainerRecord& record, int code) {
  // `rename` may have changed the record on disk meanwhile.
  if (auto now = load_record(store, record.id)) record.name = now->name;
  record.status = ContainerStatus::kExited;
  record.exit_code = code;
  record.finished = image::rfc3339_now();
  record.container_pid = 0;
  if (record.auto_remove) return remove_container_files(store, record);
  return save_record(store, record);
}

}  // namespace

Result<std::unique_ptr<fs::Mount>> mount_container(const image::Store& store,
                                                   const ContainerRecord& record) {
  fs::MountOptions options;
  options.lowers = record.lowers;
  options.upper = fs::join(container_dir(store, record.id), "upper");
  options.fsname = "imgfs-" + record.id.substr(0, 12);
  return TRY_CTX(fs::Mount::create(container_rootfs(store, record.id), options),
                 "mounting the container's root filesystem");
}

Result<ContainerRecord> create_container(const image::Store& store, const CreateOptions& o,
                                         std::unique_ptr<fs::Mount>* keep_mount) {
  auto lease = TRY(store.lease());
  image::Image img = TRY(containers::ensure_image(store, o.image, o.pull, o.pull_progress));
  std::vector<std::string> layers = TRY(store.prepare_layers(img));
  log::debug("run: image " + img.manifest_digest.short_hex() + " resolved, layers ready");

  ContainerRecord record;
  record.id = TRY(new_container_id());
  record.name = o.name.empty() ? new_container_name(store) : o.name;
  if (!o.name.empty()) {
    ContainerList all = TRY(list_records(store));
    for (const auto& r : all.records) {
      if (r.name == o.name) {
        return fail(ErrorKind::kAlreadyExists, "Conflict. The container name \"/" + o.name +
                                                   "\" is already in use by container \"" + r.id +
                                                   "\". You have to remove (or rename) that "
                                                   "container to be able to reuse that name.");
      }
    }
  }
  record.image = o.image;
  record.image_id = img.config_digest.str();
  record.manifest_digest = img.manifest_digest.str();
  record.created = image::rfc3339_now();
  record.stop_signal = o.stop_signal.empty() ? img.config.config.stop_signal : o.stop_signal;
  record.stop_timeout = o.stop_timeout;
  record.auto_remove = o.auto_remove;
  record.detached = o.detached;
  record.restart_policy = o.restart_policy;
  containers::HealthConfig image_health;
  if (img.config.config.healthcheck) {
    image_health = TRY(containers::health_config_from_json(*img.config.config.healthcheck));
  }
  if (auto health = containers::merge_health_config(image_health, o.health); health.enabled()) {
    record.health = health;
  }
  record.lowers.assign(layers.rbegin(), layers.rend());
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
    auto mount = TRY(mount_container(store, record));
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
                   std::unique_ptr<fs::Mount> mounted) {
  Result<std::unique_ptr<fs::Mount>> mount = std::move(mounted);
  if (!*mount) {
    mount = mount_container(store, record);
    if (!mount) {
      (void)finish(store, record, 125);
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
  auto forwarder = runtime::PortForwarder::bind(record.ports);
  if (!forwarder) {
    (void)(*mount)->unmount();
    (void)finish(store, record, 125);
    return report_error(forwarder.error(), 125);
  }
  auto code = runtime::run_container(container_rootfs(store, record.id), spec, [&](pid_t pid) {
    log::debug("run: container process started, pid " + std::to_string(pid));
    record.container_pid = pid;
    record.started = image::rfc3339_now();
    (void)save_record(store, record);
    if (!record.ports.empty()) {
      if (auto started = (*forwarder)->start(pid); !started) {
        report_error(started.error().with_context("publishing ports"));
        ::kill(pid, SIGKILL);
      }
    }
  });
  log::debug("run: container exited");
  (*forwarder)->stop();
  auto unmounted = (*mount)->unmount();
  mount->reset();
  log::debug("run: rootfs unmounted");
  int exit_code = code ? *code : runtime::exit_code_for_start_error(code.error());
  auto finished = finish(store, record, exit_code);
  if (!code) return report_error(code.error(), exit_code);
  if (!unmounted) report_error(unmounted.error());
  if (!finished) report_error(finished.error());
  log::debug("run: done");
  return exit_code;
}

int start_detached(const image::Store& store, const ContainerRecord& record) {
  auto pipe = sys::pipe2(0, "ready");
  if (!pipe) return report_error(pipe.error(), 125);
  auto& [ready_r, ready_w] = *pipe;
  std::string self = "/proc/self/exe";
  std::vector<std::string> args = {"imgbuild", "--root",     store.root(), "container-monitor",
                                   record.id,  "--ready-fd", "3"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return report_error(Error::from_errno("fork", "monitor", errno), 125);
  if (pid == 0) {
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::dup2(ready_w.get(), 3);  // dup2 clears CLOEXEC on the copy
    ::execv(self.c_str(), argv.data());
    ::_exit(127);
  }
  ready_w.reset();
  auto reply = sys::read_all(ready_r.get(), "ready pipe");
  if (!reply || reply->empty()) {
    int status = 0;
    ::waitpid(pid, &status, WNOHANG);
    return report_error(Error(ErrorKind::kRuntime, "the container monitor exited early"), 125);
  }
  size_t space = reply->find(' ');
  int code = std::atoi(reply->substr(0, space).c_str());
  if (code != 0) {
    std::fprintf(stderr, "imgbuild: %s\n", escape_control_chars(reply->substr(space + 1)).c_str());
    ContainerRecord leftover = record;
    if (record.auto_remove) (void)remove_container_files(store, leftover);
    return code;
  }
  return 0;
}

namespace {

// A start that failed, with the exit code Docker gives it.
struct StartFailure {
  Error error;
  int code;
};

// One run of a detached container on its mounted root: binds its host ports (a port in use fails
// cleanly before anything runs), starts it, records it running, calls on_running, copies a tty's
// output to the log and waits. Returns the exit code.
std::expected<int, StartFailure> run_once(const image::Store& store, ContainerRecord& record,
                                          int log_fd, const std::function<void()>& on_running) {
  runtime::ProcessSpec spec = record.spec;
  spec.stdin_open = false;
  spec.stdout_fd = log_fd;
  spec.stderr_fd = log_fd;
  spec.id = record.id;  // names the cgroup, which stop checks
  spec.etc_dir = fs::join(container_dir(store, record.id), "etc");
  auto forwarder = runtime::PortForwarder::bind(record.ports);
  if (!forwarder) return std::unexpected(StartFailure{forwarder.error(), 125});
  auto container = runtime::Container::start(container_rootfs(store, record.id), spec);
  if (!container) {
    int code = runtime::exit_code_for_start_error(container.error());
    return std::unexpected(StartFailure{container.error(), code});
  }
  if (!record.ports.empty()) {
    if (auto started = (*forwarder)->start(container->pid()); !started) {
      (void)container->kill(SIGKILL);
      (void)container->wait();
      return std::unexpected(StartFailure{started.error().with_context("publishing ports"), 125});
    }
  }
  if (auto now = load_record(store, record.id)) record.name = now->name;
  record.status = ContainerStatus::kRunning;
  record.monitor_pid = ::getpid();
  record.container_pid = container->pid();
  record.started = image::rfc3339_now();
  (void)save_record(store, record);
  // A stop that came while the container was being restarted found no process to signal.
  if (stop_requested(store, record.id)) (void)container->kill(SIGKILL);
  on_running();
  std::optional<containers::HealthMonitor> health;
  if (record.health) {
    health.emplace(container->pid(), record.spec, *record.health,
                   [&store, id = record.id](const containers::HealthState& state) {
                     (void)save_health(store, id, state);
                   });
  }

  if (UniqueFd master = container->take_pty_master()) {
    char buf[16384];
    for (;;) {
      size_t n = sys::read_some(master.get(), buf).value_or(0);
      if (n == 0) break;  // EIO: every slave fd is closed
      if (!sys::write_all(log_fd, std::string_view(buf, n))) break;
    }
  }
  auto code = container->wait();
  health.reset();
  (*forwarder)->stop();  // the host ports are free before the record says "exited"
  return code ? *code : 125;
}

// Sleeps for delay unless a stop is requested meanwhile; true when it was.
bool sleep_unless_stopped(const image::Store& store, const std::string& id,
                          std::chrono::milliseconds delay) {
  auto deadline = std::chrono::steady_clock::now() + delay;
  for (;;) {
    if (stop_requested(store, id)) return true;
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
  }
}

}  // namespace

int monitor_container(const image::Store& store, const std::string& id, int ready_fd) {
  for (int sig : {SIGINT, SIGHUP, SIGTERM, SIGPIPE}) ::signal(sig, SIG_IGN);
  auto loaded = load_record(store, id);
  if (!loaded) {
    report_ready(ready_fd, 125, loaded.error().message());
    return 125;
  }
  ContainerRecord record = std::move(*loaded);
  auto fail_start = [&](const Error& e, int code) {
    report_ready(ready_fd, code, e.message());
    (void)finish(store, record, code);
    return code;
  };
  auto log = sys::open(fs::join(container_dir(store, id), "container.log"),
                       O_WRONLY | O_CREAT | O_APPEND, 0640);
  if (!log) return fail_start(log.error(), 125);
  auto mount = mount_container(store, record);
  if (!mount) return fail_start(mount.error(), 125);

  containers::RestartBackoff backoff;
  int code = 0;
  for (bool first = true;; first = false) {
    auto started_at = std::chrono::steady_clock::now();
    auto ran = run_once(store, record, log->get(), [&] {
      if (!first) return;
      report_ready(ready_fd, 0, "ok");
      ::close(ready_fd);
    });
    if (!ran && first) {
      mount->reset();
      return fail_start(ran.error().error, ran.error().code);
    }
    if (!ran) {
      // A restart that fails to start ends the restarting (as Docker's restart manager).
      std::string line = "imgbuild: restarting: " + ran.error().error.message() + "\n";
      (void)sys::write_all(log->get(), line, "container log");
      code = ran.error().code;
      break;
    }
    code = *ran;
    if (!containers::should_restart(record.restart_policy, code, record.restart_count,
                                    stop_requested(store, id))) {
      break;
    }
    auto ran_for = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started_at);
    if (auto now = load_record(store, record.id)) record.name = now->name;
    record.status = ContainerStatus::kRestarting;
    record.exit_code = code;
    record.finished = image::rfc3339_now();
    record.container_pid = 0;
    ++record.restart_count;
    (void)save_record(store, record);
    if (sleep_unless_stopped(store, id, backoff.next(ran_for))) break;
  }
  (void)(*mount)->unmount();
  mount->reset();
  (void)finish(store, record, code);
  return 0;
}

}  // namespace imgbuild::cli
