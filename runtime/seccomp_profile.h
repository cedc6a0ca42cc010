// The seccomp filter containers get by default: Docker's default profile, expressed as the
// syscalls it refuses to a container without extra capabilities (Docker lists what it allows; the
// effect for such a container is the same, and a syscall newer than the list keeps working).
//
// Refused with EPERM: kernel modules, kexec, reboot, swap, accounting, the clock, keyrings, bpf,
// perf events, userfaultfd, io_uring, NUMA policy, process_vm_*, kcmp, handle-based opens,
// mounting (mount, umount, pivot_root, the new mount API), namespaces (unshare, setns, clone with
// a CLONE_NEW* flag), quotactl, and the obsolete ones (uselib, ustat, sysfs, _sysctl, nfsservctl,
// vm86, ...). clone3 answers ENOSYS, as with Docker: its flags live in memory a filter cannot
// read, and C libraries fall back to clone, whose flags it can.
//
// The filter is built once per process, before any container is cloned (libseccomp allocates;
// the child between clone and exec must not), and handed to the child as a BPF program that it
// installs with no_new_privs set, right before execve.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "base/error.h"

namespace imgbuild::runtime {

struct SeccompProgram {
  std::vector<sock_filter> instructions;
  sock_fprog fprog() const {
    return sock_fprog{static_cast<unsigned short>(instructions.size()),
                      const_cast<sock_filter*>(instructions.data())};
  }
};

// The default profile for this machine's architecture (cached; thread-safe).
Result<const SeccompProgram*> default_seccomp_program();

}  // namespace imgbuild::runtime
