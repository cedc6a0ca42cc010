// The lifecycle of an `imgbuild mount`: a background imgfs server (fs/server.h) plus its record
// in the store (fs/mount_record.h, a GC root). The record is written before the server starts and
// removed after the mount is gone, so a crash leaves at worst a stale record, dropped by the next
// listing once nothing is mounted there and its server is gone. Nothing here prints.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "fs/mount.h"
#include "fs/mount_record.h"
#include "image/store.h"

namespace imgbuild::fs {

// Before a mount at mountpoint (absolute): kInvalidArgument "mount: mount point P is not a
// directory", kAlreadyExists "mount: something is already mounted at P" or "mount: P is recorded
// as mounted; run imgbuild umount first".
Status check_mount_target(const image::Store& store, const std::string& mountpoint);

// The writable upper of a --rw mount: upper_dir (made absolute, created) or, when empty, one
// imgbuild owns under mounts/ and removes at umount. Sets record.upper and record.owned_upper.
Status prepare_upper(const image::Store& store, MountRecord& record, const std::string& upper_dir);

// With record written (write_mount_record, under the caller's store lease), starts the
// background server for options at record.mountpoint and records its pid. On failure removes
// the record and an owned upper; the error names the image and the mount point.
Status serve_recorded_mount(const image::Store& store, MountRecord& record,
                            const MountOptions& options);

// The records of the mounts that are still there (and the unreadable ones, which are never
// dropped: their mount point is unknown). Records of mounts that are gone (nothing mounted, server
// dead: a reboot, a manual umount) are removed, with their owned upper.
Result<MountRecordList> list_active_mounts(const image::Store& store);

// What `imgbuild umount` did besides unmounting.
struct UnmountOutcome {
  // The mount point's record was unreadable and was removed (its error names the file).
  std::optional<Error> removed_unreadable;
};

// Unmounts mountpoint (absolute; also a mount whose server was killed), waits up to 5 s for the
// server to exit (then SIGKILL), removes the record and an owned upper. kNotFound "umount: nothing
// is mounted at P" when there is neither a mount nor a record.
Result<UnmountOutcome> unmount_recorded(const image::Store& store, const std::string& mountpoint);

}  // namespace imgbuild::fs
