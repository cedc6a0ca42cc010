#include "runtime/rootless.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "base/fs.h"
#include "base/log.h"
#include "base/subprocess.h"
#include "base/sys.h"
#include "base/unique_fd.h"

namespace imgbuild::runtime::rootless {
namespace {

Result<UniqueFd> open_lock(const std::string& path) {
  return sys::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

std::vector<std::string> map_argv(const std::string& program, pid_t pid,
                                  const std::vector<IdRange>& ranges) {
  std::vector<std::string> argv = {program, std::to_string(pid)};
  for (const IdRange& r : ranges) {
    argv.push_back(std::to_string(r.inner));
    argv.push_back(std::to_string(r.outer));
    argv.push_back(std::to_string(r.count));
  }
  return argv;
}

// The helper, forked before the parent leaves the initial user namespace: newuidmap and
// newgidmap are setuid programs, which do not work from inside the new namespace. It waits for
// the parent's byte (sent after unshare), maps the parent, and exits 0 when both maps were set.
[[noreturn]] void map_helper(int go_fd, pid_t parent, const IdMapPlan& plan,
                             const std::string& newuidmap, const std::string& newgidmap) {
  char c;
  // Forked from a single-threaded process: the wrappers are safe here.
  auto n = sys::read_exact(go_fd, std::span<char>(&c, 1), "rootless map helper");
  if (!n || *n != 1) ::_exit(2);  // the parent gave up (its unshare failed)
  for (const auto& argv :
       {map_argv(newuidmap, parent, plan.uids), map_argv(newgidmap, parent, plan.gids)}) {
    auto done = run_process(argv);
    if (!done || done->exit_code != 0) {
      std::string why = done ? done->err : done.error().message();
      while (!why.empty() && why.back() == '\n') why.pop_back();
      std::fprintf(stderr, "imgbuild: %s failed: %s\n", argv[0].c_str(), why.c_str());
      ::_exit(1);
    }
  }
  ::_exit(0);
}

// Without subordinate ids a process may map only its own ids, and only after giving up
// setgroups(2) (user_namespaces(7)).
Status write_proc(const std::string& path, const std::string& text) {
  UniqueFd fd = TRY(sys::open(path, O_WRONLY | O_CLOEXEC));
  return sys::write_all(fd.get(), text, path);
}

Status write_single_maps(uid_t uid, gid_t gid) {
  TRY(write_proc("/proc/self/setgroups", "deny"));
  TRY(write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n"));
  TRY(write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n"));
  return {};
}

// The pause process: holds the namespaces (and pause.lock, now fd 3) until killed.
[[noreturn]] void pause_main(int lock_fd) {
  ::setsid();
  ::prctl(PR_SET_NAME, "imgbuild-pause", 0, 0, 0);
  // Gaining capabilities in the namespace made this process non-dumpable; dumpable again, the user
  // can reach the namespace's mounts through /proc/PID/root (it could join it anyway).
  ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  (void)!::chdir("/");
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
  }
  if (lock_fd != 3) ::dup2(lock_fd, 3);
  ::syscall(SYS_close_range, 4U, UINT_MAX, 0U);
  for (;;) ::pause();
}

Status create_namespaces(const std::string& state_dir, UniqueFd pause_lock) {
  IdMapPlan plan = TRY(plan_id_maps_for_current_user());
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  std::string newuidmap, newgidmap;
  if (plan.subordinate) {
    newuidmap = find_system_program("newuidmap");
    newgidmap = find_system_program("newgidmap");
    if (newuidmap.empty() || newgidmap.empty()) {
      return fail(ErrorKind::kNotFound,
                  "newuidmap/newgidmap not found: /etc/subuid gives this user subordinate ids, "
                  "which only they can map; install Debian's uidmap package");
    }
  }
  int go[2];
  if (::pipe2(go, O_CLOEXEC) < 0) return fail_errno("pipe2", "rootless map helper");
  UniqueFd go_r(go[0]), go_w(go[1]);
  Child helper;
  if (plan.subordinate) {
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return fail_errno("fork", "rootless map helper");
    if (pid == 0) {
      go_w.reset();
      map_helper(go_r.get(), parent, plan, newuidmap, newgidmap);
    }
    helper = Child(pid);
  }
  go_r.reset();
  if (::unshare(CLONE_NEWUSER) < 0) {
    int err = errno;
    go_w.reset();
    if (helper.running()) (void)helper.wait();
    return fail(Error::from_errno("unshare", "user namespace", err)
                    .with_context("entering a user namespace (check sysctl user.max_user_namespaces"
                                  " and kernel.unprivileged_userns_clone)"));
  }
  if (plan.subordinate) {
    TRY(sys::write_all(go_w.get(), "m", "rootless map helper"));
    go_w.reset();
    int status = TRY(helper.wait());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return fail(ErrorKind::kIo,
                  "mapping the subordinate ids of /etc/subuid and /etc/subgid failed (the "
                  "message of newuidmap/newgidmap is above)");
    }
  } else {
    TRY_CTX(write_single_maps(uid, gid), "single-id user namespace map");
  }
  if (::unshare(CLONE_NEWNS) < 0) return fail_errno("unshare", "mount namespace");

  pid_t pause = ::fork();
  if (pause < 0) return fail_errno("fork", "imgbuild-pause");
  if (pause == 0) pause_main(pause_lock.get());
  pause_lock.reset();  // the pause process holds it now
  TRY(fs::write_file_atomic(fs::join(state_dir, "pause.pid"), std::to_string(pause) + "\n", 0600));
  log::debug("rootless: created user namespace " + format_id_map(plan.uids) + ", pause pid " +
             std::to_string(pause));
  return {};
}

Status join_namespaces(const std::string& state_dir) {
  std::string pid_path = fs::join(state_dir, "pause.pid");
  std::string text = TRY(fs::read_file(pid_path));
  long pid = std::strtol(text.c_str(), nullptr, 10);
  if (pid <= 0) return fail(ErrorKind::kCorrupt, pid_path + ": no pid");
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
  if (pidfd < 0) return fail_errno("pidfd_open", "imgbuild-pause " + std::to_string(pid));
  UniqueFd owned(pidfd);
  if (::setns(pidfd, CLONE_NEWUSER | CLONE_NEWNS) < 0) {
    return fail_errno("setns", "namespaces of imgbuild-pause " + std::to_string(pid));
  }
  return {};
}

}  // namespace

Status enter(const std::string& state_dir) {
  char cwd_buf[PATH_MAX];
  const char* cwd = ::getcwd(cwd_buf, sizeof cwd_buf);
  TRY(fs::make_dirs(state_dir, 0700));
  std::string create_path = fs::join(state_dir, "create.lock");
  UniqueFd create = TRY(open_lock(create_path));
  TRY(sys::flock(create.get(), LOCK_EX, create_path));
  std::string pause_path = fs::join(state_dir, "pause.lock");
  UniqueFd pause_lock = TRY(open_lock(pause_path));
  auto locked = sys::flock(pause_lock.get(), LOCK_EX | LOCK_NB, pause_path);
  if (locked) {
    TRY_CTX(create_namespaces(state_dir, std::move(pause_lock)), "rootless");
  } else if (locked.error().errno_value() == EWOULDBLOCK) {
    pause_lock.reset();
    TRY_CTX(join_namespaces(state_dir), "rootless");
  } else {
    return fail(locked.error());
  }
  // Joining a mount namespace moves the working directory to its root: go back (the namespace
  // has the host's tree, copied when it was made).
  if (cwd != nullptr && ::chdir(cwd) < 0) {
    return fail_errno("chdir", std::string(cwd) + " in the rootless mount namespace");
  }
  return {};
}

bool active() { return ::getuid() == 0 && in_user_namespace(); }

}  // namespace imgbuild::runtime::rootless
