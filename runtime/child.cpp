#include "runtime/child.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "base/eintr.h"
#include "runtime/child_fail.h"
#include "runtime/child_mounts.h"
#include "runtime/docker_defaults.h"
#include "runtime/init_process.h"

namespace imgbuild::runtime {
namespace {

using child::die;

void reset_signals() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &sa, nullptr);  // fails harmlessly for glibc's reserved signals
  }
}

void loopback_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die({"socket for lo"});
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, "lo", 3);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die({"SIOCGIFFLAGS lo"});
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die({"bring up lo"});
  ::close(s);
}

// Opens a pty pair in the container's devpts, sends the master to the parent and makes the
// slave the controlling terminal and stdio.
void setup_tty(const ChildPlan& plan) {
  int master = ::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die({"open /dev/pts/ptmx"});
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) < 0) die({"unlockpt"});
  int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) die({"open pty peer"});
  if (::fchown(slave, plan.uid, static_cast<gid_t>(-1)) < 0) die({"chown pty"});

  char byte = 0;
  struct iovec iov {
    &byte, 1
  };
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &master, sizeof(int));
  // Raw sendmsg, not sys::send_fd: between clone and exec failures go through die(), not Error.
  if (::sendmsg(plan.console_fd, &msg, MSG_NOSIGNAL) < 0) die({"send pty master"});
  ::close(master);

  if (::ioctl(slave, TIOCSCTTY, 0) < 0) die({"set controlling terminal"});
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave, fd) < 0) die({"dup2 pty"});
  }
  ::close(slave);
}

void setup_stdio(const ChildPlan& plan) {
  int in = plan.stdin_fd;
  if (in < 0) {
    in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0) die({"open /dev/null"});
  }
  // Move all three out of the way first: a spec fd may itself be 0, 1 or 2.
  int src[3] = {in, plan.stdout_fd, plan.stderr_fd};
  int tmp[3];
  for (int i = 0; i < 3; ++i) {
    tmp[i] = ::fcntl(src[i], F_DUPFD_CLOEXEC, 3);
    if (tmp[i] < 0) die({"dup stdio"});
  }
  for (int i = 0; i < 3; ++i) {
    if (::dup2(tmp[i], i) < 0) die({"dup2 stdio"});
  }
}

void drop_privileges(const ChildPlan& plan) {
  for (int cap : plan.drop_bounding) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die({"drop capability"});
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    die({"clear ambient capabilities"});
  }
  // A single-id rootless namespace has setgroups(2) disabled (runtime/rootless.h): the process
  // keeps the groups it has, which map to no group inside.
  if (plan.setgroups_allowed &&
      ::syscall(SYS_setgroups, plan.groups.size(), plan.groups.data()) < 0) {
    die({"setgroups"});
  }
  if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) < 0) die({"setresgid"});
  if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) < 0) die({"setresuid"});
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  struct __user_cap_data_struct data[2] = {};
  if (plan.uid == 0) {
    for (int i = 0; i < 2; ++i) {
      data[i].effective = plan.caps[i];
      data[i].permitted = plan.caps[i];
    }
  }
  if (::syscall(SYS_capset, &header, data) < 0) die({"capset"});
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die({"set no_new_privs"});
}

[[noreturn]] void exec_process(const ChildPlan& plan) {
  // Last of all: the filter refuses some of what the setup above needed (mount, pivot_root).
  if (plan.seccomp != nullptr &&
      ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, plan.seccomp) < 0) {
    die({"install the seccomp filter"});
  }
  int err = ENOENT;
  bool denied = false;
  for (const char* path : plan.exec_candidates) {
    ::execve(path, plan.argv, plan.envp);
    err = errno;
    if (err == EACCES) {
      denied = true;
    } else if (err != ENOENT && err != ENOTDIR) {
      break;
    }
  }
  if (denied && (err == ENOENT || err == ENOTDIR)) err = EACCES;
  child::die_with(ChildReport::kExec, err, {plan.argv[0]});
}

void apply_rlimits(const ChildPlan& plan) {
  for (const auto& r : plan.rlimits) {
    if (::setrlimit(r.resource, &r.limit) < 0) die({"setrlimit ", r.name});
  }
}

// Waits for the parent's go (it has placed us in the cgroup and started the network helper).
void wait_for_go(const ChildPlan& plan) {
  char go = 0;
  // Raw read (no Result, no allocation: between clone and exec); retry_eintr is inline.
  ssize_t n = sys::retry_eintr([&] { return ::read(plan.sync_fd, &go, 1); });
  if (n != 1) ::_exit(125);  // the parent gave up; it reports why
}

[[noreturn]] void exec_now(const ChildPlan& plan) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  exec_process(plan);
}

}  // namespace

void child_main(const ChildPlan& plan) {
  child::g_report_fd = plan.report_fd;
  reset_signals();
  ::umask(0);
  if (::setsid() < 0) die({"setsid"});
  if (plan.hostname[0] != '\0' && ::sethostname(plan.hostname, std::strlen(plan.hostname)) < 0) {
    die({"sethostname ", plan.hostname});
  }
  if (plan.new_netns) loopback_up();

  int rootfd = child::prepare_root(plan.rootfs);
  child::mount_all(rootfd, plan);
  ::close(rootfd);
  child::pivot_into(plan.rootfs);
  child::mask_paths();
  if (plan.read_only_rootfs) child::make_root_read_only();

  if (plan.console_fd >= 0) {
    setup_tty(plan);
  } else {
    setup_stdio(plan);
  }
  if (::chdir(plan.cwd) < 0) die({"chdir to ", plan.cwd});
  apply_rlimits(plan);
  // The go comes before the credential change: slirp4netns, started meanwhile, opens this
  // process's network namespace, which a process that changed uid (no longer dumpable) allows
  // only to holders of CAP_SYS_PTRACE over its memory's user namespace; rootless that is the
  // initial one, where nothing here has it.
  wait_for_go(plan);
  drop_privileges(plan);
  // The container must not outlive the process that started it (its mount would be dead): set
  // after the credential change, which clears this setting.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die({"set parent death signal"});
  ::umask(022);
  if (plan.init) child::become_init(plan);
  exec_now(plan);
}

void exec_child_main(const ChildPlan& plan) {
  child::g_report_fd = plan.report_fd;
  reset_signals();
  if (::setsid() < 0) die({"setsid"});
  // Joining the mount namespace also moves root and cwd to that namespace's root, which the
  // container's pivot_root made its root: no chroot needed, and no path of the host is reachable.
  if (::setns(plan.join_pidfd, plan.join_ns_flags) < 0) die({"setns into the container"});
  ::close(plan.join_pidfd);
  if (plan.console_fd >= 0) {
    setup_tty(plan);
  } else {
    setup_stdio(plan);
  }
  if (::chdir(plan.cwd) < 0) die({"chdir to ", plan.cwd});
  apply_rlimits(plan);
  drop_privileges(plan);
  wait_for_go(plan);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die({"set parent death signal"});
  ::umask(022);
  exec_now(plan);
}

}  // namespace imgbuild::runtime
