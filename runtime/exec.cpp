// Container::exec: a process joining a running container (`imgbuild exec`).
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <tuple>

#include "base/sys.h"
#include "runtime/container_support.h"
#include "runtime/docker_defaults.h"
#include "runtime/id_map.h"
#include "runtime/seccomp_profile.h"
#include "runtime/user.h"

namespace imgbuild::runtime {
namespace {

// Makes this thread's next children members of the pid namespace of pidfd's process, and back
// again on destruction (the thread's own pid namespace never changes; only pid_for_children).
class PidNamespaceForChildren {
 public:
  static Result<PidNamespaceForChildren> enter(int pidfd, pid_t pid) {
    PidNamespaceForChildren scope;
    scope.own_ = TRY(sys::open("/proc/thread-self/ns/pid", O_RDONLY));
    if (::setns(pidfd, CLONE_NEWPID) < 0) {
      return fail_errno("setns CLONE_NEWPID", "container pid " + std::to_string(pid));
    }
    return scope;
  }
  PidNamespaceForChildren(PidNamespaceForChildren&&) = default;
  ~PidNamespaceForChildren() {
    if (own_) ::setns(own_.get(), CLONE_NEWPID);
  }

 private:
  PidNamespaceForChildren() = default;
  UniqueFd own_;
};

}  // namespace

Result<Container> Container::exec(pid_t container_pid, const ProcessSpec& spec) {
  bool exec_failed = false;
  auto result = exec_impl(container_pid, spec, exec_failed);
  if (!result && !exec_failed) {
    const Error& e = result.error();
    return fail(Error(ErrorKind::kRuntime, e.message(), e.errno_value()));
  }
  return result;
}

Result<Container> Container::exec_impl(pid_t container_pid, const ProcessSpec& spec,
                                       bool& exec_failed) {
  if (spec.args.empty()) return fail(ErrorKind::kInvalidArgument, "no command specified");
  if (spec.cwd.empty() || spec.cwd[0] != '/') {
    return fail(ErrorKind::kInvalidArgument, "the working directory '" + spec.cwd +
                                                 "' is invalid, it needs to be an absolute path");
  }
  TRY(check_id_range(spec.uid, "user " + std::to_string(spec.uid)));
  TRY(check_id_range(spec.gid, "group " + std::to_string(spec.gid)));
  long raw = ::syscall(SYS_pidfd_open, container_pid, 0);
  if (raw < 0) return fail_errno("pidfd_open", "container pid " + std::to_string(container_pid));
  UniqueFd pidfd(static_cast<int>(raw));

  auto state = std::make_unique<State>();
  state->id = spec.id;

  std::vector<std::string> candidates = detail::exec_candidates(spec.args[0], spec.env);
  std::vector<char*> argv, envp;
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  ChildPlan plan{};
  plan.setgroups_allowed = setgroups_allowed();
  plan.rootfs = "";
  plan.hostname = "";
  plan.stdin_fd = spec.stdin_open ? spec.stdin_fd : -1;
  plan.stdout_fd = spec.stdout_fd;
  plan.stderr_fd = spec.stderr_fd;
  plan.cwd = spec.cwd.c_str();
  plan.rlimits = TRY(plan_rlimits(spec.ulimits));
  plan.uid = spec.uid;
  plan.gid = spec.gid;
  plan.groups.assign(spec.additional_gids.begin(), spec.additional_gids.end());
  detail::set_capabilities(plan, spec);
  plan.argv = argv.data();
  plan.envp = envp.data();
  sock_fprog seccomp_prog{};
  if (spec.seccomp) {
    const SeccompProgram* program = TRY_CTX(default_seccomp_program(), "seccomp profile");
    seccomp_prog = program->fprog();
    plan.seccomp = &seccomp_prog;
  }
  for (const auto& c : candidates) plan.exec_candidates.push_back(c.c_str());
  plan.join_pidfd = pidfd.get();
  plan.join_ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;

  auto [report_r, report_w] = TRY(detail::make_pipe());
  auto [sync_r, sync_w] = TRY(sys::socketpair(AF_UNIX, SOCK_SEQPACKET, "sync"));
  UniqueFd console_parent, console_child;
  if (spec.tty) {
    std::tie(console_parent, console_child) = TRY(sys::socketpair(AF_UNIX, SOCK_SEQPACKET, "pty"));
  }
  plan.report_fd = report_w.get();
  plan.sync_fd = sync_r.get();
  plan.console_fd = console_child.get();

  long pid;
  int clone_errno;
  {
    // The pid namespace is joined by the parent: setns(CLONE_NEWPID) only affects children.
    auto pidns = TRY(PidNamespaceForChildren::enter(pidfd.get(), container_pid));
    struct clone_args args {};
    args.exit_signal = SIGCHLD;
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) exec_child_main(plan);
    clone_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  if (pid < 0) return fail_errno("clone3", "exec process", clone_errno);
  state->pid = static_cast<pid_t>(pid);
  report_w.reset();
  sync_r.reset();
  console_child.reset();

  Container container(state.release());
  State* st = container.state_;
  Status placed = Cgroup::join(container_pid, st->pid);
  if (placed) {
    if (::send(sync_w.get(), "g", 1, MSG_NOSIGNAL) != 1) placed = fail_errno("send", "sync socket");
  }
  if (!placed) ::kill(st->pid, SIGKILL);
  if (spec.tty && placed) st->pty_master = detail::receive_fd(console_parent.get());
  auto reported = TRY(detail::read_child_report(report_r.get()));
  if (!reported) {
    if (!placed) return fail(placed.error());
    if (spec.tty && !st->pty_master) return fail(ErrorKind::kRuntime, "no pty for the process");
    return container;
  }
  const ChildReport& report = *reported;
  if (report.stage == ChildReport::kExec) {
    exec_failed = true;
    return fail(detail::exec_error(spec.args[0], report.err));
  }
  return fail(Error(ErrorKind::kRuntime,
                    std::string(report.what) + ": " + detail::errno_text(report.err), report.err));
}

}  // namespace imgbuild::runtime
