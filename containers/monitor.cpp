#include "containers/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <expected>
#include <functional>
#include <optional>
#include <thread>

#include "base/fs.h"
#include "base/sys.h"
#include "containers/health_monitor.h"
#include "containers/launch.h"
#include "containers/record_store.h"
#include "containers/restart_policy.h"
#include "containers/stop.h"
#include "image/image_config.h"
#include "runtime/port_forwarder.h"

namespace imgbuild::containers {
namespace {

// Writes "<code> <message>" (or "0 ok") to the ready pipe (containers/monitor_launcher.h).
void report_ready(int fd, int code, const std::string& message) {
  if (fd < 0) return;
  std::string line = std::to_string(code) + " " + message;
  (void)sys::write_all(fd, line, "ready pipe");
}

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
  std::optional<HealthMonitor> health;
  if (record.health) {
    health.emplace(container->pid(), record.spec, *record.health,
                   [&store, id = record.id](const HealthState& state) {
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
    (void)record_exit(store, record, code);
    return code;
  };
  auto log = sys::open(fs::join(container_dir(store, id), "container.log"),
                       O_WRONLY | O_CREAT | O_APPEND, 0640);
  if (!log) return fail_start(log.error(), 125);
  auto mount = mount_container(store, record);
  if (!mount) return fail_start(mount.error(), 125);

  RestartBackoff backoff;
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
    if (!should_restart(record.restart_policy, code, record.restart_count,
                        stop_requested(store, id))) {
      break;
    }
    auto ran_for = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started_at);
    record_restarting(store, record, code);
    if (sleep_unless_stopped(store, id, backoff.next(ran_for))) break;
  }
  (void)(*mount)->unmount();
  mount->reset();
  (void)record_exit(store, record, code);
  return 0;
}

}  // namespace imgbuild::containers
