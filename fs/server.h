// Serving an imgfs mount from a process of its own, for the standalone `imgfs` binary and
// `imgbuild mount`: the process serves until the mount is unmounted (umount, fusermount3 -u,
// `imgbuild umount`) or it gets SIGTERM/SIGINT/SIGHUP (then it unmounts itself), closes every
// descriptor and exits. It holds the layers through private mount clones
// (MountOptions::clone_layer_mounts), so it never keeps the caller's mounts busy while exiting.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"
#include "fs/mount.h"

namespace imgbuild::fs {

// What a server reports when its mount ends.
enum class ExitReport {
  kNone,
  // "imgfs MOUNTPOINT: requests: LOOKUP 12, ..." on stderr (MountStats::requests), then
  // "; through io_uring: N" when the mount used FUSE over io_uring.
  kRequestCounts,
};

// Mounts and serves in the calling process until the mount goes away. Call before starting other
// threads: it blocks the termination signals and waits for them on a thread of its own.
Status serve(const std::string& mountpoint, const MountOptions& options,
             ExitReport report = ExitReport::kNone);

// Mounts, then forks a server process (a new session, stdin and stdout on /dev/null) that serves
// the mount as serve() does; returns its pid, or the error if mounting failed. Like a daemonising
// libfuse server: the mount exists when this returns, and the first requests wait until the
// server has answered the kernel's INIT. The server's log lines (stderr: e.g. a lazy layer's
// failed fetch) are appended to log_path, or dropped when it is empty.
Result<pid_t> serve_in_background(const std::string& mountpoint, const MountOptions& options,
                                  const std::string& log_path = {});

}  // namespace imgbuild::fs
