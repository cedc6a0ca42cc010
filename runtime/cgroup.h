// One cgroup per container, for its resource limits and to account its processes.
//
// cgroup v2 (the unified hierarchy mounted at /sys/fs/cgroup): <mount>/imgbuild/<name>, with the
// needed controllers enabled in the parents' cgroup.subtree_control. Hybrid (v1 controllers plus
// a controller-less v2 hierarchy at /sys/fs/cgroup/unified, as on this project's machines): a v2
// cgroup there that tracks the container's processes, plus a directory in the memory, pids and
// cpu v1 hierarchies only for the limits that are set. v1 only: pids always, memory and cpu when
// limited. v1 directories are <hierarchy>/<own cgroup>/imgbuild/<name>, nested under the caller's
// cgroup so the container stays inside whatever limits the caller is under.
//
// Where there is a v2 cgroup the container is cloned straight into it (clone_fd(), clone3's
// CLONE_INTO_CGROUP): a process's first migration between cgroups waits for an RCU grace period
// (~15 ms on this machine), which cloning into the cgroup avoids; v1 directories still need add().
//
// Limits as Docker sets them: memory.limit_in_bytes (v1) / memory.max (v2), swap limited to the
// same amount again (memory.memsw.limit_in_bytes = 2x, memory.swap.max = 1x) where swap
// accounting exists; pids.max; CFS quota cpus * 100000 per 100000 us period.
//
// Every container gets Docker's device policy (runtime/device_policy.h): a BPF device program on
// its v2 cgroup, or the v1 devices controller where there is no v2 hierarchy.
//
// Ownership: Cgroup removes its directories on destruction (retrying while the kernel still
// counts exiting tasks). Not thread-safe. Errors name the file written ("write 33554432 to
// /sys/fs/cgroup/memory/.../memory.limit_in_bytes: EINVAL ...").
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "runtime/container.h"

namespace imgbuild::runtime {

class Cgroup {
 public:
  // Creates the cgroup directories "imgbuild/<name>" and writes the limits.
  static Result<Cgroup> create(const std::string& name, const Resources& resources);
  Cgroup() = default;
  Cgroup(Cgroup&& other) noexcept
      : dirs_(std::move(other.dirs_)), clone_fd_(std::move(other.clone_fd_)) {
    other.dirs_.clear();
  }
  Cgroup& operator=(Cgroup&& other) noexcept;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  ~Cgroup() { remove(); }

  // The v2 cgroup directory to clone into (CLONE_INTO_CGROUP), or -1 when there is none.
  int clone_fd() const { return clone_fd_.get(); }
  // Moves pid into the cgroup: every hierarchy, except the v2 one when it was cloned into it.
  Status add(pid_t pid, bool cloned_into = false) const;
  // Removes the directories (their processes must have exited). Idempotent, best effort.
  void remove();
  const std::vector<std::string>& dirs() const { return dirs_; }

  // Moves pid into the cgroups a running container's process (member) is in, in every hierarchy
  // where that is one of this runtime's ("/imgbuild/" in its path): `exec` joins the container's
  // accounting and limits. Errors name the cgroup.procs written.
  static Status join(pid_t member, pid_t pid);

  // Removes leftovers named name in every hierarchy (a container whose imgbuild was killed):
  // kills what is still in them, then removes the directories.
  static void remove_stale(const std::string& name);

 private:
  // Docker's device policy (runtime/device_policy.h) on the v2 directory, else in v1's devices.
  Status apply_device_policy(const std::string& name, int layout);
  std::vector<std::string> dirs_;
  UniqueFd clone_fd_;
};

}  // namespace imgbuild::runtime
