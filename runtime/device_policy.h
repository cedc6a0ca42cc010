// Which device nodes a container may use: Docker's default device cgroup policy (runc's default
// allow list), enforced by the kernel for every process of the container and its build steps.
//
//   mknod   any character or block node: allowed, as in Docker and BuildKit (images are built
//           with device nodes in them: conformance case 04-special-files).
//   open    only /dev/null, zero, full, random, urandom (c 1:3,5,7,8,9), tty, console, ptmx
//           (c 5:0,1,2), the container's pseudo-terminals (c 136:*) and tun (c 10:200); any other
//           node, wherever it is (made with mknod, or shipped in a layer), fails with EPERM.
//
// Where the container has a cgroup v2 directory (unified, or the hybrid layout's controller-less
// v2 hierarchy) the policy is a BPF_PROG_TYPE_CGROUP_DEVICE program attached to it, as runc and
// crun do; the kernel runs it for the processes of that cgroup whichever v1 controllers exist.
// Without one (v1 only), or where the program cannot be attached, the v1 devices controller
// gets `devices.deny a` and the allow list.
#pragma once

#include <string>

#include "base/error.h"

namespace imgbuild::runtime {

struct DeviceRule {
  char type;           // 'c', 'b' or 'a' (all)
  long major;          // -1: any
  long minor;          // -1: any
  const char* access;  // subset of "rwm"
};

// The allow list above, in order.
const DeviceRule* device_allow_list(size_t* count);

// Attaches the policy program to the cgroup v2 directory cgroup_fd (loaded once per process).
Status attach_device_program(int cgroup_fd);

// Writes the policy into a v1 devices cgroup directory.
Status write_v1_device_rules(const std::string& dir);

}  // namespace imgbuild::runtime
