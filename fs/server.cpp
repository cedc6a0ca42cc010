#include "fs/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/fs.h"
#include "base/sys.h"

namespace imgbuild::fs {

Status serve(const std::string& mountpoint, const MountOptions& options,
             const std::function<void()>& on_ready) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  // Blocked before the FUSE threads exist, so they inherit the mask and only the waiter below
  // ever sees these signals.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto mount = TRY(Mount::create(mountpoint, options));
  std::string target = mount->mountpoint();
  std::thread([set, target] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0) (void)force_unmount(target);
  }).detach();
  if (on_ready) on_ready();
  mount->wait();  // returns when the kernel ends the session
  return mount->unmount();
}

Result<pid_t> serve_in_background(const std::string& mountpoint, const MountOptions& options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return fail_errno("pipe2", "imgfs server");
  UniqueFd rd(fds[0]), wr(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork", "imgfs server");
  if (pid == 0) {
    rd.reset();
    ::setsid();
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    auto st = serve(mountpoint, options, [&] {
      (void)sys::write_all(wr.get(), "ok");
      wr.reset();
    });
    if (!st && wr) (void)sys::write_all(wr.get(), "error: " + st.error().message());
    ::_exit(st ? 0 : 1);
  }
  wr.reset();
  // "ok" is the whole answer: return on it rather than on EOF, which waits until the server has
  // got round to closing its end.
  std::string msg;
  char chunk[512];
  for (;;) {
    ssize_t n = ::read(rd.get(), chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg.append(chunk, static_cast<size_t>(n));
    if (msg == "ok") return pid;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string text = msg;
  if (text.starts_with("error: ")) text = text.substr(7);
  if (text.empty()) text = "imgfs server exited before the mount was ready";
  return fail(ErrorKind::kIo, text);
}

}  // namespace imgbuild::fs
