#include "runtime/user_network.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "base/sys.h"

extern char** environ;

namespace imgbuild::runtime {
namespace {

constexpr int kReadyTimeoutMs = 10000;
// Fixed fd numbers in slirp4netns (after stdio).
constexpr int kReadyFd = 3;
constexpr int kExitFd = 4;

// An fd number above the ones posix_spawn's dup2 actions write to, so no action clobbers the
// source of a later one.
Result<UniqueFd> above_stdio(UniqueFd fd) {
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 10);
  if (moved < 0) return fail_errno("fcntl F_DUPFD_CLOEXEC", "slirp4netns");
  return UniqueFd(moved);
}

std::string read_log(int fd) {
  std::string out(4096, '\0');
  ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

Result<UserNetwork> UserNetwork::start(pid_t pid) {
  // slirp4netns opens /dev/net/tun in the container's namespace; rootless that needs the node's
  // mode to allow it, which would otherwise surface as slirp4netns' bare "Permission denied".
  if (::access("/dev/net/tun", R_OK | W_OK) != 0 && errno == EACCES) {
    return fail(ErrorKind::kPermission,
                "/dev/net/tun is not accessible to this user: the private network (slirp4netns) "
                "needs it (Debian's udev rules make it 0666: chmod 0666 /dev/net/tun), or use "
                "--network host or --network none");
  }
  auto [ready_r, ready_w0] = TRY(sys::pipe2(0, "slirp4netns"));
  auto [exit_r0, exit_w] = TRY(sys::pipe2(0, "slirp4netns"));
  UniqueFd ready_w = TRY(above_stdio(std::move(ready_w0)));
  UniqueFd exit_r = TRY(above_stdio(std::move(exit_r0)));
  int log = ::memfd_create("slirp4netns-log", MFD_CLOEXEC);
  if (log < 0) return fail_errno("memfd_create", "slirp4netns log");
  UniqueFd log_fd = TRY(above_stdio(UniqueFd(log)));

  std::vector<std::string> args = {"slirp4netns",
                                   "--configure",
                                   "--mtu=65520",
                                   "--disable-host-loopback",
                                   "--ready-fd=" + std::to_string(kReadyFd),
                                   "--exit-fd=" + std::to_string(kExitFd),
                                   std::to_string(pid),
                                   "tap0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd.get(), 2);
  posix_spawn_file_actions_adddup2(&actions, ready_w.get(), kReadyFd);
  posix_spawn_file_actions_adddup2(&actions, exit_r.get(), kExitFd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Our callers block signals around clone: the helper starts with none blocked, defaults set.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t child_pid = -1;
  int rc = ::posix_spawnp(&child_pid, "slirp4netns", &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc == ENOENT) {
    return fail(ErrorKind::kNotFound,
                "slirp4netns not found: the build-step network needs it (Debian package "
                "slirp4netns), or use --network host or --network none");
  }
  if (rc != 0) return fail_errno("posix_spawn", "slirp4netns", rc);
  Child child(child_pid);
  ready_w.reset();
  exit_r.reset();

  struct pollfd p {
    ready_r.get(), POLLIN, 0
  };
  // An interrupted wait counts as not ready: slirp4netns is killed and the error reported.
  auto n = sys::poll({&p, 1}, kReadyTimeoutMs, "slirp4netns ready pipe");
  char byte = 0;
  bool ready =
      n && *n == 1 && sys::read_some(ready_r.get(), {&byte, 1}).value_or(0) == 1 && byte == '1';
  if (!ready) {
    child.signal(SIGKILL);
    int status = TRY(child.wait());
    std::string what =
        n == 0 ? "did not become ready in 10 s"
               : "exited with status " + std::to_string(exit_code_from_wait_status(status));
    std::string out = read_log(log_fd.get());
    return fail(ErrorKind::kRuntime, "slirp4netns for process " + std::to_string(pid) + " " + what +
                                         (out.empty() ? "" : ": " + out));
  }
  return UserNetwork(std::move(child), std::move(exit_w));
}

UserNetwork::~UserNetwork() {
  if (!child_.running()) return;
  // slirp4netns exits when its exit fd closes, but the kernel takes 15-25 ms to tear down its tap
  // device: reaping it here would add that to every build step. A thread reaps it instead (if
  // this process exits first, init does).
  exit_w_.reset();
  std::thread([pid = child_.release()] { (void)sys::wait_pid(pid); }).detach();
}

}  // namespace imgbuild::runtime
