// The mount part of the child (see child.h): the container's filesystem view, built inside the
// child's new mount namespace. All functions die() on failure, naming the syscall and subject.
#pragma once

#include "runtime/child.h"

namespace imgbuild::runtime::child {

// Makes / recursively private and binds the root onto itself; returns an O_PATH fd of it.
int prepare_root(const char* rootfs);
// Performs plan.mounts under rootfd (targets opened with RESOLVE_IN_ROOT).
void mount_all(int rootfd, const ChildPlan& plan);
// pivot_root through fds (the old root is detached); cwd is "/" afterwards.
void pivot_into(const char* rootfs);
// After pivot: Docker's masked and read-only paths.
void mask_paths();
// After pivot: makes the root mount (not the ones on it) read-only.
void make_root_read_only();

}  // namespace imgbuild::runtime::child
