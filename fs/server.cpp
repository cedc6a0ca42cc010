#include "fs/server.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <thread>

#include "base/fs.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "fs/mount_table.h"
#include "fs/request_counts.h"

namespace imgbuild::fs {

namespace {

// The termination signals, blocked before the FUSE threads exist so that they inherit the mask
// and only serve_mount's waiter ever sees them.
sigset_t block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

Status serve_mount(Mount& mount, const sigset_t& set, ExitReport report) {
  mount.start();
  std::string target = mount.mountpoint();
  std::optional<dev_t> own = mounted_device(fs::absolute(target));
  std::thread([set, target, own] {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return;
    if (own && mounted_device(fs::absolute(target)) != own) {
      // The mount is no longer at its mountpoint in this namespace (detached with `umount -l`
      // while still in use, or covered): end the connection itself, so the server still exits.
      abort_fuse_connection(*own);
      return;
    }
    (void)force_unmount(target);
  }).detach();
  mount.wait();  // returns when the kernel ends the session (ENODEV after `umount`)
  if (report == ExitReport::kRequestCounts) {
    MountStats stats = mount.stats();
    std::string ring = stats.io_uring ? "; through io_uring: " + std::to_string(stats.ring_requests)
                                      : std::string();
    std::fprintf(stderr, "imgfs %s: requests: %s%s\n", target.c_str(),
                 format_request_counts(stats.requests).c_str(), ring.c_str());
  }
  return mount.unmount();  // closes every descriptor before the process exits
}

// A server process outlives the caller's `umount`, so it holds the layers through private mount
// clones (MountOptions::clone_layer_mounts) and never keeps the caller's mounts busy.
MountOptions server_options(const MountOptions& options) {
  MountOptions out = options;
  out.clone_layer_mounts = true;
  return out;
}

}  // namespace

Status serve(const std::string& mountpoint, const MountOptions& options, ExitReport report) {
  sigset_t set = block_termination_signals();
  auto mount = TRY(Mount::create_unstarted(mountpoint, server_options(options)));
  return serve_mount(*mount, set, report);
}

Result<pid_t> serve_in_background(const std::string& mountpoint, const MountOptions& options,
                                  const std::string& log_path) {
  // Mount here, serve from the child (libfuse's daemonising model): errors come back directly,
  // and the caller goes on as soon as the child exists. Requests made before the child answers
  // the kernel's INIT wait for it; if the child dies, the connection goes with the last copy of
  // the session fd and the mount point reports ENOTCONN until `umount`.
  auto mount = TRY(Mount::create_unstarted(mountpoint, server_options(options)));
  UniqueFd log_fd;
  if (!log_path.empty()) {
    log_fd = TRY(sys::open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  }
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork", "imgfs server");  // ~Mount unmounts
  if (pid == 0) {
    ::setsid();
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(log_fd ? log_fd.get() : null, 2);
    }
    sigset_t set = block_termination_signals();
    ::_exit(serve_mount(*mount, set, ExitReport::kNone) ? 0 : 1);
  }
  mount->disown();
  return pid;
}

}  // namespace imgbuild::fs
