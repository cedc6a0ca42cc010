// Rootless mode: an ordinary user's imgbuild runs as root of a user namespace that maps the
// user's own id to 0 and the user's subordinate ids (/etc/subuid, /etc/subgid) to 1.. (see
// runtime/id_map.h), with a mount namespace of its own, as `buildah unshare`, podman and
// rootlesskit do. Inside it, chown, mknod-free extraction, FUSE mounts (Linux >= 4.18) and the
// container runtime work as they do for root, and files keep their real ownership on disk.
//
// One namespace pair per store, kept by a pause process (as podman's): the first rootless command
// on a store creates the namespaces and forks "imgbuild-pause" into them, which holds
// <state_dir>/pause.lock (flock) for as long as it lives and whose pid is in <state_dir>/pause.pid;
// every later command joins them with setns (no fork or exec: ~0.1 ms). So an imgfs mount made by
// `imgbuild mount`, a detached container's rootfs and the build's mounts are visible to every
// later command, as they are for root in the host's namespace. Creating and joining are
// serialised by <state_dir>/create.lock. Killing the pause process ends nothing that runs; the
// next command starts a new pair, in which earlier mounts are not visible.
//
// Must be called while the process is single-threaded (setns and unshare of a user namespace
// require it), before anything else opens files in the store.
#pragma once

#include <string>

#include "base/error.h"
#include "runtime/id_map.h"

namespace imgbuild::runtime::rootless {

// Joins (or creates) the namespaces of the store whose rootless state directory is state_dir.
// Keeps the working directory. Errors name what failed: a missing newuidmap (Debian's uidmap
// package), a rejected map (newuidmap's own message is printed above), unshare refused by the
// kernel (user.max_user_namespaces, kernel.unprivileged_userns_clone).
Status enter(const std::string& state_dir);

// Whether this process runs rootless: in a user namespace, as imgbuild does after enter().
bool active();

}  // namespace imgbuild::runtime::rootless
