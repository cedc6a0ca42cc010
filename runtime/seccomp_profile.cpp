#include "runtime/seccomp_profile.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>

#include "base/sys.h"
#include "base/unique_fd.h"

namespace imgbuild::runtime {
namespace {

// Refused with EPERM. Names libseccomp does not know on this architecture are skipped.
constexpr const char* kDenied[] = {
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "create_module",
    "delete_module",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_kernel_syms",
    "get_mempolicy",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mbind",
    "mount",
    "mount_setattr",
    "move_mount",
    "move_pages",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "query_module",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "set_mempolicy",
    "setns",
    "settimeofday",
    "stime",
    "swapoff",
    "swapon",
    "sysfs",
    "_sysctl",
    "umount",
    "umount2",
    "unshare",
    "uselib",
    "userfaultfd",
    "ustat",
    "vm86",
    "vm86old",
};

constexpr uint64_t kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,   CLONE_NEWUSER,
                                        CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};

Result<SeccompProgram> build() {
  scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return fail(ErrorKind::kInternal, "seccomp_init failed");
  struct Release {
    scmp_filter_ctx ctx;
    ~Release() { ::seccomp_release(ctx); }
  } release{ctx};
  auto add = [&](const char* name, uint32_t action, unsigned count,
                 const scmp_arg_cmp* args) -> Status {
    int nr = ::seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return {};  // not on this architecture
    int rc = ::seccomp_rule_add_array(ctx, action, nr, count, args);
    if (rc < 0) {
      return fail(ErrorKind::kInternal,
                  std::string("seccomp rule for ") + name + ": " + std::strerror(-rc));
    }
    return {};
  };
  for (const char* name : kDenied) TRY(add(name, SCMP_ACT_ERRNO(EPERM), 0, nullptr));
  for (uint64_t flag : kNamespaceFlags) {
    scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag);
    TRY(add("clone", SCMP_ACT_ERRNO(EPERM), 1, &cmp));
  }
  TRY(add("clone3", SCMP_ACT_ERRNO(ENOSYS), 0, nullptr));

  // libseccomp 2.5 exports BPF to an fd only.
  int raw = ::memfd_create("imgbuild-seccomp", MFD_CLOEXEC);
  if (raw < 0) return fail_errno("memfd_create", "seccomp filter");
  UniqueFd fd(raw);
  if (int rc = ::seccomp_export_bpf(ctx, fd.get()); rc < 0) {
    return fail(ErrorKind::kInternal, std::string("seccomp_export_bpf: ") + std::strerror(-rc));
  }
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) return fail_errno("lseek", "seccomp filter");
  std::string bytes = TRY(sys::read_all(fd.get(), "seccomp filter"));
  if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0) {
    return fail(ErrorKind::kInternal,
                "seccomp filter: unexpected BPF size " + std::to_string(bytes.size()));
  }
  SeccompProgram program;
  program.instructions.resize(bytes.size() / sizeof(sock_filter));
  std::memcpy(program.instructions.data(), bytes.data(), bytes.size());
  return program;
}

}  // namespace

Result<const SeccompProgram*> default_seccomp_program() {
  static std::once_flag once;
  static std::optional<Result<SeccompProgram>> built;
  std::call_once(once, [] { built = build(); });
  if (!*built) return fail(built->error());
  return &**built;
}

}  // namespace imgbuild::runtime
