// The container's first process between clone() and exec(): what it needs, prepared by the parent
// (ChildPlan holds only pointers into strings and vectors the parent keeps alive), and the code
// that runs it. That code makes only syscalls (no allocation, no exceptions, no locks), so it is
// safe after cloning a multithreaded process; it leaves by exec or _exit.
//
// Failures are reported to the parent as one ChildReport written to plan.report_fd (a CLOEXEC
// pipe: the parent reading EOF without a report means exec succeeded).
#pragma once

#include <linux/filter.h>

#include <linux/capability.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/rlimits.h"

namespace imgbuild::runtime {

struct ChildReport {
  enum Stage : int32_t { kSetup = 1, kExec = 2 };
  int32_t stage = 0;
  int32_t err = 0;
  char what[480] = {};  // e.g. "mount proc on /proc"
};

struct ChildMount {
  enum class Type { kProc, kDev, kSys, kBind, kTmpfs };
  Type type;
  const char* target_rel;  // resolved inside the root by the parent ("etc/hosts")
  const char* target;      // as the user named it, for messages ("/etc/hosts")
  // kBind: the source as the user named it, for messages. kTmpfs: the size option in bytes
  // ("1048576"), "" for the kernel's default.
  const char* source;
  int tree_fd;  // kBind: a detached mount (open_tree clone) made by the parent
};

struct ChildPlan {
  const char* rootfs;  // canonical host path
  int report_fd;       // write end of the report pipe
  int sync_fd;         // read end: one byte arrives when the parent has placed us in the cgroup
  int console_fd;      // tty only: socket to send the pty master over; -1 otherwise
  const char* hostname;
  bool new_netns;
  // In a user namespace (rootless): no mknod (device nodes are bind mounts of the host's), and
  // sysfs is the host's, read-only, when the network namespace is the host's.
  bool rootless;
  bool tty_group_mapped;
  bool setgroups_allowed;  // false only with a single-id rootless map           // gid 5 exists
                           // here (false only with a single-id rootless map)
  std::vector<ChildMount> mounts;  // in order
  bool read_only_rootfs;
  int stdin_fd, stdout_fd, stderr_fd;  // stdin_fd -1: /dev/null
  const char* cwd;
  std::vector<RlimitSetting> rlimits;  // applied in order (runtime/rlimits.h)
  const char* shm_size;                // size= of the /dev/shm tmpfs ("65536k")
  uint32_t uid, gid;
  std::vector<gid_t> groups;
  __u32 caps[2];  // eff/perm for root (uid 0); non-root users get none
  std::vector<int> drop_bounding;
  char* const* argv;
  char* const* envp;
  std::vector<const char*> exec_candidates;  // args[0], or each PATH entry + "/" + args[0]
  const sock_fprog* seccomp;                 // installed right before execve; nullptr: none
  // `run --init` (runtime/init_process.h): fork; this process stays pid 1 as the init. Its
  // command line (init_title_len bytes at init_title_area, this process's argv) is overwritten
  // with init_title (as long, NUL-padded); area nullptr: left as is.
  bool init = false;
  char* init_title_area = nullptr;
  const char* init_title = nullptr;
  size_t init_title_len = 0;
  // exec_child_main only: a pidfd of the running container's pid 1 and the namespaces to join.
  int join_pidfd = -1;
  int join_ns_flags = 0;
};

// A new container's first process: namespaces already new, builds the root and execs.
[[noreturn]] void child_main(const ChildPlan& plan);
// A process joining a running container (Container::exec): setns into plan.join_pidfd's
// namespaces (its root becomes the container's root), then stdio or tty, cwd, rlimits,
// credentials, seccomp and exec as child_main. rootfs, hostname and mounts are unused.
[[noreturn]] void exec_child_main(const ChildPlan& plan);

}  // namespace imgbuild::runtime
