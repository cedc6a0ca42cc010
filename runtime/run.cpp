// run_container and run_exec: start, relay the pty, forward signals, wait.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <optional>

#include "base/sys.h"
#include "runtime/container.h"
#include "runtime/signal_forwarder.h"

namespace imgbuild::runtime {
namespace {

// Puts the terminal on fd into raw mode for the lifetime of the object.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (::isatty(fd) && ::tcgetattr(fd, &saved_) == 0) {
      struct termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  struct termios saved_ {};
  bool active_ = false;
};

void copy_winsize(int from, int to) {
  struct winsize ws {};
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

// Copies what is readable now from in to out; false at EOF or error (EIO on a hung-up pty).
bool pump(int in, int out) {
  char buf[16384];
  ssize_t n = ::read(in, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  return static_cast<bool>(sys::write_all(out, std::string_view(buf, static_cast<size_t>(n))));
}

// Forwards signals to the process, relays its pty (if any) until it exits, then waits.
Result<int> relay_and_wait(Container& container, const ProcessSpec& spec,
                           const std::function<void(int)>& on_forwarded = {}) {
  SignalForwarder forwarder(container.pid());
  long pidfd_raw = ::syscall(SYS_pidfd_open, container.pid(), 0);
  if (pidfd_raw < 0) return fail_errno("pidfd_open", std::to_string(container.pid()));
  UniqueFd pidfd(static_cast<int>(pidfd_raw));

  UniqueFd master = container.take_pty_master();
  std::optional<RawTerminal> raw;
  bool stdin_live = false;
  bool master_live = static_cast<bool>(master);
  if (master) {
    if (spec.stdin_open) {
      raw.emplace(spec.stdin_fd);
      stdin_live = true;
    }
    copy_winsize(spec.stdin_fd, master.get());
  }

  for (;;) {
    struct pollfd fds[4] = {};
    int n = 0;
    fds[n++] = {pidfd.get(), POLLIN, 0};
    fds[n++] = {forwarder.fd(), POLLIN, 0};
    int master_idx = -1, stdin_idx = -1;
    if (master_live) {
      master_idx = n;
      fds[n++] = {master.get(), POLLIN, 0};
    }
    if (stdin_live) {
      stdin_idx = n;
      fds[n++] = {spec.stdin_fd, POLLIN, 0};
    }
    TRY(sys::poll(std::span<struct pollfd>(fds, static_cast<size_t>(n)), -1,
                  "container " + container.id()));
    if ((fds[1].revents & POLLIN) != 0) {
      for (int sig : forwarder.read_pending()) {
        if (sig == SIGWINCH && master) copy_winsize(spec.stdin_fd, master.get());
        if (sig != SIGWINCH && on_forwarded) on_forwarded(sig);
      }
    }
    if (master_idx >= 0 && fds[master_idx].revents != 0) {
      if (!pump(master.get(), spec.stdout_fd)) master_live = false;
    }
    if (stdin_idx >= 0 && fds[stdin_idx].revents != 0) {
      if (!pump(spec.stdin_fd, master.get())) stdin_live = false;
    }
    if ((fds[0].revents & POLLIN) != 0) break;
  }
  if (master) {
    // The process has exited; drain what it wrote before.
    int flags = ::fcntl(master.get(), F_GETFL);
    ::fcntl(master.get(), F_SETFL, flags | O_NONBLOCK);
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(master.get(), buf, sizeof buf);
      if (n <= 0) break;
      if (!sys::write_all(spec.stdout_fd, std::string_view(buf, static_cast<size_t>(n)))) break;
    }
  }
  return container.wait();
}

}  // namespace

Result<int> run_container(const std::string& rootfs, const ProcessSpec& spec,
                          const std::function<void(pid_t)>& on_start,
                          const std::function<void(int)>& on_forwarded) {
  Container container = TRY(Container::start(rootfs, spec));
  if (on_start) on_start(container.pid());
  return relay_and_wait(container, spec, on_forwarded);
}

Result<int> run_exec(pid_t container_pid, const ProcessSpec& spec) {
  Container process = TRY(Container::exec(container_pid, spec));
  return relay_and_wait(process, spec);
}

}  // namespace imgbuild::runtime
