#include "runtime/init_process.h"

#include <linux/close_range.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"
#include "runtime/child_fail.h"

namespace imgbuild::runtime {

std::string init_command_line(const std::vector<std::string>& args, size_t size) {
  std::string out("init\0--\0", 8);
  for (const auto& a : args) {
    out += a;
    out += '\0';
  }
  out.resize(size, '\0');
  if (size > 0) out.back() = '\0';
  return out;
}

void prepare_init(ChildPlan& plan, const std::vector<std::string>& args, std::string& title) {
  plan.init = true;
  auto cmdline = fs::read_file("/proc/self/cmdline");
  if (!cmdline || cmdline->empty()) return;
  // glibc points program_invocation_name at argv[0], the start of the kernel's argument area.
  char* area = program_invocation_name;
  if (std::memcmp(area, cmdline->data(), cmdline->size()) != 0) return;
  title = init_command_line(args, cmdline->size());
  plan.init_title_area = area;
  plan.init_title = title.data();
  plan.init_title_len = title.size();
}

}  // namespace imgbuild::runtime

namespace imgbuild::runtime::child {
namespace {

// Signals the kernel raises for a fault of the process itself, and the terminal's job-control
// stops aimed at a background group: not forwarded (as tini).
bool forwardable(int sig) {
  switch (sig) {
    case SIGCHLD:
    case SIGFPE:
    case SIGILL:
    case SIGSEGV:
    case SIGBUS:
    case SIGABRT:
    case SIGTRAP:
    case SIGSYS:
    case SIGTTIN:
    case SIGTTOU: return false;
    default: return true;
  }
}

[[noreturn]] void supervise(pid_t child) {
  sigset_t all;
  sigfillset(&all);
  for (;;) {
    siginfo_t info;
    int sig = ::sigwaitinfo(&all, &info);
    if (sig < 0) continue;  // EINTR
    if (sig != SIGCHLD) {
      if (forwardable(sig)) ::kill(child, sig);
      continue;
    }
    // SIGCHLDs coalesce: reap everything that has exited.
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid != child) continue;
      if (WIFSIGNALED(status)) ::_exit(128 + WTERMSIG(status));
      ::_exit(WEXITSTATUS(status));
    }
  }
}

}  // namespace

void become_init(const ChildPlan& plan) {
  // A raw clone, not fork(): glibc's fork runs atfork handlers and takes malloc's locks, which
  // another thread of the process that cloned us may have held at that moment.
  struct clone_args args {};
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) die({"fork the init's command process"});
  if (pid == 0) {
    ::setpgid(0, 0);
    // Signals are blocked, so taking the foreground from the background does not stop us.
    if (plan.console_fd >= 0) ::tcsetpgrp(0, ::getpid());
    return;
  }
  // The command's copy of the report pipe closes when it execs: the parent's EOF (or the
  // command's exec report) must not wait for this process, which never execs.
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::prctl(PR_SET_NAME, "init", 0, 0, 0);
  if (plan.init_title_area != nullptr) {
    std::memcpy(plan.init_title_area, plan.init_title, plan.init_title_len);
  }
  supervise(static_cast<pid_t>(pid));
}

}  // namespace imgbuild::runtime::child
