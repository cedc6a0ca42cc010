#include "containers/health_probe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "base/sys.h"

namespace imgbuild::containers {

std::string rfc3339_nano_now() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm {};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
  return buf;
}

HealthResult run_health_probe(pid_t container_pid, const runtime::ProcessSpec& container,
                              const std::vector<std::string>& command,
                              std::chrono::milliseconds timeout) {
  HealthResult result;
  result.start = rfc3339_nano_now();
  auto failed = [&](const std::string& why) {
    result.exit_code = -1;
    result.output = why;
    result.end = rfc3339_nano_now();
    return result;
  };
  auto pipe = sys::pipe2(O_NONBLOCK, "health check output");
  if (!pipe) return failed(pipe.error().message());
  auto& [out_r, out_w] = *pipe;
  runtime::ProcessSpec spec = container;  // Container::exec uses only the process fields
  spec.args = command;
  spec.tty = false;
  spec.stdin_open = false;
  spec.stdout_fd = out_w.get();
  spec.stderr_fd = out_w.get();
  auto probe = runtime::Container::exec(container_pid, spec);
  out_w.reset();
  if (!probe) return failed(probe.error().message());
  long pidfd_raw = ::syscall(SYS_pidfd_open, probe->pid(), 0);
  if (pidfd_raw < 0) return failed("pidfd_open: " + std::to_string(errno));
  UniqueFd pidfd(static_cast<int>(pidfd_raw));

  // Reads what is there; false at end of file (every writer gone).
  auto drain = [&] {
    char buf[4096];
    for (;;) {
      auto n = sys::read_some(out_r.get(), buf, "health check output");
      if (!n) return n.error().errno_value() == EAGAIN;  // nothing more for now
      if (*n == 0) return false;
      if (result.output.size() < HealthState::kMaxOutput) result.output.append(buf, *n);
    }
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool output_open = true;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      (void)probe->kill(SIGKILL);
      (void)probe->wait();
      return failed("Health check exceeded timeout (" + go_duration_string(timeout) + ")");
    }
    struct pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {out_r.get(), POLLIN, 0}};
    auto ready = sys::poll(std::span(fds, output_open ? 2 : 1), static_cast<int>(left.count()) + 1,
                           "health check");
    if (!ready) break;
    if (output_open && fds[1].revents != 0) output_open = drain();
    if ((fds[0].revents & POLLIN) != 0) break;
  }
  drain();
  auto code = probe->wait();
  result.exit_code = code ? *code : -1;
  result.end = rfc3339_nano_now();
  return result;
}

}  // namespace imgbuild::containers
