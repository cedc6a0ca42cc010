#include "containers/monitor_launcher.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "base/sys.h"

namespace imgbuild::containers {

Result<MonitorReady> parse_monitor_ready(std::string_view reply) {
  if (reply.empty()) return fail(ErrorKind::kRuntime, "the container monitor exited early");
  size_t space = reply.find(' ');
  MonitorReady ready;
  ready.code = std::atoi(std::string(reply.substr(0, space)).c_str());
  if (ready.code != 0 && space != std::string_view::npos) {
    ready.message = std::string(reply.substr(space + 1));
  }
  return ready;
}

Result<MonitorReady> ExecMonitorLauncher::launch(const image::Store& store, const std::string& id) {
  auto [ready_r, ready_w] = TRY(sys::pipe2(0, "ready"));
  std::vector<std::string> args = {"imgbuild", "--root",     store.root(), "container-monitor",
                                   id,         "--ready-fd", "3"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return fail(Error::from_errno("fork", "monitor", errno));
  if (pid == 0) {
    // Between fork and exec: raw calls only, and _exit.
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::dup2(ready_w.get(), 3);  // dup2 clears CLOEXEC on the copy
    ::execv(exe_.c_str(), argv.data());
    ::_exit(127);
  }
  ready_w.reset();
  auto reply = sys::read_all(ready_r.get(), "ready pipe");
  if (!reply || reply->empty()) {
    int status = 0;
    ::waitpid(pid, &status, WNOHANG);
    return fail(ErrorKind::kRuntime, "the container monitor exited early");
  }
  return parse_monitor_ready(*reply);
}

}  // namespace imgbuild::containers
