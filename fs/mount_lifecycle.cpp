#include "fs/mount_lifecycle.h"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "fs/mount_table.h"
#include "fs/server.h"

namespace imgbuild::fs {
namespace {

bool server_alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace

Status check_mount_target(const image::Store& store, const std::string& mountpoint) {
  if (!is_dir(mountpoint)) {
    return fail(ErrorKind::kInvalidArgument,
                "mount: mount point " + mountpoint + " is not a directory");
  }
  if (mounted_device(mountpoint)) {
    return fail(ErrorKind::kAlreadyExists, "mount: something is already mounted at " + mountpoint);
  }
  if (exists(mount_record_path(store, mountpoint))) {
    return fail(ErrorKind::kAlreadyExists,
                "mount: " + mountpoint + " is recorded as mounted; run imgbuild umount first");
  }
  return {};
}

Status prepare_upper(const image::Store& store, MountRecord& record, const std::string& upper_dir) {
  if (!upper_dir.empty()) {
    record.upper = absolute(upper_dir);
    return make_dirs(record.upper);
  }
  record.upper = owned_upper_path(store, record.mountpoint);
  record.owned_upper = true;
  return make_dirs(record.upper, 0755);
}

Status serve_recorded_mount(const image::Store& store, MountRecord& record,
                            const MountOptions& options) {
  auto pid =
      serve_in_background(record.mountpoint, options, mount_log_path(store, record.mountpoint));
  if (!pid) {
    if (record.owned_upper) (void)remove_tree(record.upper);
    (void)remove_mount_record(store, record.mountpoint);
    return fail(pid.error().with_context("mount " + record.image + " at " + record.mountpoint));
  }
  record.pid = *pid;
  return write_mount_record(store, record);
}

Result<MountRecordList> list_active_mounts(const image::Store& store) {
  MountRecordList list = TRY(list_mount_records(store));
  MountRecordList active;
  active.unreadable = std::move(list.unreadable);
  for (auto& r : list.records) {
    if (!mounted_device(r.mountpoint) && !server_alive(r.pid)) {
      if (r.owned_upper) (void)remove_tree(owned_upper_path(store, r.mountpoint));
      (void)remove_mount_record(store, r.mountpoint);
      continue;
    }
    active.records.push_back(std::move(r));
  }
  return active;
}

Result<UnmountOutcome> unmount_recorded(const image::Store& store, const std::string& mountpoint) {
  auto record = read_mount_record(store, mountpoint);
  bool unreadable = !record && record.error().kind() != ErrorKind::kNotFound;
  bool mounted = mounted_device(mountpoint).has_value();
  if (!record && !unreadable && !mounted) {
    return fail(ErrorKind::kNotFound, "umount: nothing is mounted at " + mountpoint);
  }
  if (mounted) TRY_CTX(force_unmount(mountpoint), "umount");
  UnmountOutcome outcome;
  if (unreadable) {
    // The record's path comes from the mount point, so it can go; the server pid it held is
    // unknown, but the server exits when the kernel ends its session.
    outcome.removed_unreadable = record.error();
    TRY(remove_tree(owned_upper_path(store, mountpoint)));
    TRY(remove_mount_record(store, mountpoint));
  }
  if (record) {
    // The server exits once the kernel ends its session; give it a moment, then make sure.
    for (int i = 0; i < 200 && server_alive(record->pid); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (server_alive(record->pid)) ::kill(record->pid, SIGKILL);
    if (record->owned_upper) TRY(remove_tree(owned_upper_path(store, mountpoint)));
    TRY(remove_mount_record(store, mountpoint));
  }
  return outcome;
}

}  // namespace imgbuild::fs
