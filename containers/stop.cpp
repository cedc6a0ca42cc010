#include "containers/stop.h"

#include <signal.h>

#include <cstdio>
#include <thread>

#include "base/fs.h"
#include "base/user_namespace.h"
#include "containers/record_store.h"

namespace imgbuild::containers {
namespace {

bool wait_stopped(const image::Store& store, const std::string& id,
                  std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto r = load_record(store, id);
    if (!r || !is_active(*r)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The parent pid in /proc/PID/stat (after the command name, which may hold spaces and parens).
pid_t parent_of(pid_t pid) {
  auto stat = fs::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return 0;
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return 0;
  char state = 0;
  int ppid = 0;
  if (std::sscanf(stat->c_str() + close + 1, " %c %d", &state, &ppid) != 2) return 0;
  return ppid;
}

}  // namespace

bool pid_belongs(const ContainerRecord& r) {
  if (r.container_pid <= 0) return false;
  auto cg = fs::read_file("/proc/" + std::to_string(r.container_pid) + "/cgroup");
  if (cg && cg->find("imgbuild-" + r.id) != std::string::npos) return true;
  // Rootless without a delegated cgroup the container has none of its own: it is the pid its
  // monitor cloned.
  return in_user_namespace() && r.monitor_pid > 0 && parent_of(r.container_pid) == r.monitor_pid;
}

Status stop_container(const image::Store& store, const ContainerRecord& record, int sig,
                      std::chrono::milliseconds timeout) {
  if (!is_active(record)) return {};
  // A manual stop ends the restart policy: the monitor restarts it no more.
  TRY(request_stop(store, record.id));
  if (is_running(record) && pid_belongs(record)) ::kill(record.container_pid, sig);
  if (wait_stopped(store, record.id, timeout)) return {};
  auto now = load_record(store, record.id);
  if (now && pid_belongs(*now)) ::kill(now->container_pid, SIGKILL);
  if (wait_stopped(store, record.id, std::chrono::seconds(10))) return {};
  return fail(ErrorKind::kRuntime, "container " + record.id.substr(0, 12) + " did not stop");
}

Status kill_container(const image::Store& store, const std::string& name,
                      const ContainerRecord& record, int sig) {
  if (is_active(record)) TRY(request_stop(store, record.id));
  if (is_restarting(record)) return {};
  if (!is_running(record) || !pid_belongs(record)) {
    return fail(ErrorKind::kInvalidArgument,
                "cannot kill container: " + name + ": container " + record.id + " is not running");
  }
  if (::kill(record.container_pid, sig) < 0) return fail_errno("kill", "container " + name);
  return {};
}

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

int wait_for_exit(const image::Store& store, ContainerRecord record) {
  // The monitor records the exit; there is nothing to wait on but the record.
  while (is_active(record)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto now = load_record(store, record.id);
    if (!now) break;
    record = std::move(*now);
  }
  return is_active(record) ? 0 : record.exit_code;
}

}  // namespace imgbuild::containers
