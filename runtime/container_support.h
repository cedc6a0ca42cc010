// Internals shared by the runtime's two ways of starting a process in a container: a new
// container (Container::start, container.cpp) and a process joining a running one
// (Container::exec, exec.cpp). Not a public header.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "runtime/cgroup.h"
#include "runtime/child.h"
#include "runtime/container.h"
#include "runtime/safe_path.h"
#include "runtime/user_network.h"

namespace imgbuild::runtime {

struct Container::State {
  std::string id;
  pid_t pid = -1;
  Cgroup cgroup;
  std::optional<fs::TempDir> etc_tmp;
  UniqueFd rootfd;
  MountStubs stubs{-1, ""};
  UniqueFd pty_master;
  // Detached bind-mount trees for the child; closed once it is cloned (a held tree keeps the
  // source's filesystem busy).
  std::vector<UniqueFd> bind_trees;
  std::optional<UserNetwork> user_network;  // NetworkMode::kPrivate

  void cleanup() {
    cgroup.remove();
    user_network.reset();
    if (rootfd) stubs.remove_all(rootfd.get());
    // An fd on the rootfs keeps its mount busy: the caller unmounts it next.
    rootfd.reset();
    etc_tmp.reset();
  }
  void kill_and_reap() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      (void)sys::wait_pid(pid);
      pid = -1;
    }
  }
};

namespace detail {

// args[0] itself when it has a '/', else each directory of env's PATH (default kDefaultPath)
// joined with it: what the child tries to execve, in order.
std::vector<std::string> exec_candidates(const std::string& arg0,
                                         const std::vector<std::string>& env);
// "ENOENT (No such file or directory)".
std::string errno_text(int err);
// Docker's message for an exec that failed with err: kNotFound (127) or kPermission (126).
Error exec_error(const std::string& arg0, int err);
// sys::pipe2 and sys::receive_fd (base/) in the forms runtime/container.cpp and exec.cpp call.
Result<std::pair<UniqueFd, UniqueFd>> make_pipe();
// Receives one fd (SCM_RIGHTS) from sock; invalid on failure.
UniqueFd receive_fd(int sock);
// plan.caps and plan.drop_bounding from spec.capabilities (or Docker's defaults).
void set_capabilities(ChildPlan& plan, const ProcessSpec& spec);
// Reads the child's ChildReport until EOF: nullopt when exec succeeded (EOF before any byte);
// kRuntime for a short report.
Result<std::optional<ChildReport>> read_child_report(int fd);

}  // namespace detail
}  // namespace imgbuild::runtime
