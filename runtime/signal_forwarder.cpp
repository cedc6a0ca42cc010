#include "runtime/signal_forwarder.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>

namespace imgbuild::runtime {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

std::atomic<int> g_write_fd{-1};

void on_signal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_write_fd.load(), &b, 1);
  errno = saved;
}

struct Registry {
  std::mutex mu;
  std::vector<pid_t> pids;
  int read_fd = -1, write_fd = -1;
  struct sigaction old[sizeof kSignals / sizeof kSignals[0]];
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: handlers may run at exit
  return *r;
}

}  // namespace

SignalForwarder::SignalForwarder(pid_t pid) : pid_(pid) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (r.read_fd < 0) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      r.read_fd = fds[0];
      r.write_fd = fds[1];
      g_write_fd = fds[1];
    }
  }
  if (r.pids.empty() && r.write_fd >= 0) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
      ::sigaction(kSignals[i], &sa, &r.old[i]);
    }
  }
  r.pids.push_back(pid);
}

SignalForwarder::~SignalForwarder() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.pids.erase(std::remove(r.pids.begin(), r.pids.end(), pid_), r.pids.end());
  if (r.pids.empty() && r.write_fd >= 0) {
    for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
      ::sigaction(kSignals[i], &r.old[i], nullptr);
    }
  }
}

int SignalForwarder::fd() const { return registry().read_fd; }

std::vector<int> SignalForwarder::read_pending() {
  Registry& r = registry();
  std::vector<int> out;
  unsigned char buf[64];
  for (;;) {
    ssize_t n = ::read(r.read_fd, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) out.push_back(buf[i]);
  }
  std::lock_guard lock(r.mu);
  for (int sig : out) {
    if (sig == SIGWINCH) continue;
    for (pid_t pid : r.pids) ::kill(pid, sig);
  }
  return out;
}

}  // namespace imgbuild::runtime
