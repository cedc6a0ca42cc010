// One cgroup per container, for its resource limits and to account its processes.
//
// cgroup v2 (the unified hierarchy mounted at /sys/fs/cgroup): <mount>/imgbuild/<name>, with the
// needed controllers enabled in the parents' cgroup.subtree_control. cgroup v1 (and hybrid, as on
// this project's machines): one directory <hierarchy>/<own cgroup>/imgbuild/<name> in each of the
// memory, pids and cpu hierarchies, i.e. nested under the cgroup of the calling process, so the
// container stays inside whatever limits the caller is under.
//
// Limits as Docker sets them: memory.limit_in_bytes (v1) / memory.max (v2), swap limited to the
// same amount again (memory.memsw.limit_in_bytes = 2x, memory.swap.max = 1x) where swap
// accounting exists; pids.max; CFS quota cpus * 100000 per 100000 us period.
//
// Ownership: Cgroup removes its directories on destruction (retrying while the kernel still
// counts exiting tasks). Not thread-safe. Errors name the file written ("write 33554432 to
// /sys/fs/cgroup/memory/.../memory.limit_in_bytes: EINVAL ...").
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "runtime/container.h"

namespace imgbuild::runtime {

class Cgroup {
 public:
  // Creates the cgroup directories "imgbuild/<name>" and writes the limits.
  static Result<Cgroup> create(const std::string& name, const Resources& resources);
  Cgroup() = default;
  Cgroup(Cgroup&& other) noexcept : dirs_(std::move(other.dirs_)) { other.dirs_.clear(); }
  Cgroup& operator=(Cgroup&& other) noexcept;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  ~Cgroup() { remove(); }

  // Moves pid into the cgroup (every hierarchy).
  Status add(pid_t pid) const;
  // Removes the directories (their processes must have exited). Idempotent, best effort.
  void remove();
  const std::vector<std::string>& dirs() const { return dirs_; }

  // Removes leftovers named name in every hierarchy (a container whose imgbuild was killed):
  // kills what is still in them, then removes the directories.
  static void remove_stale(const std::string& name);

 private:
  std::vector<std::string> dirs_;
};

}  // namespace imgbuild::runtime
