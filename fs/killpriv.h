// Clearing setuid/setgid when a file changes, as the kernel does for local filesystems: on a
// connection with FUSE_HANDLE_KILLPRIV_V2 (fs/passthrough.h) that is this process's job.
//
// The contract (Linux include/uapi/linux/fuse.h, fs/fuse/dir.c, fs/fuse/file.c): a write or
// truncate by a caller without CAP_FSETID, and any chown of a non-directory, clears S_ISUID, and
// S_ISGID when the group may execute the file. The kernel marks truncates and chowns
// (FATTR_KILL_SUIDGID, which libfuse passes on as FUSE_SET_ATTR_KILL_SUID) and writes
// (FUSE_WRITE_KILL_SUIDGID, which libfuse 3.14 drops). imgfs therefore decides writes at open:
// a handle opened for writing by a caller other than root on a file with those bits is a cached
// handle (its writes come here, never passed through) that clears them after every write. Root
// (uid 0) stands for CAP_FSETID. Security capabilities need nothing here: writes and chowns of
// the upper copy, done as root, clear security.capability in the upper filesystem itself.
#pragma once

#include <sys/types.h>

namespace imgbuild::fs {

// Whether a write or truncate by an unprivileged caller clears bits of a file with this mode.
bool kills_on_write(mode_t mode);

// Clears S_ISUID, and S_ISGID if group-executable, on the file fd refers to (any fd, O_PATH
// included). 0 or errno.
int clear_suid_sgid(int fd);

}  // namespace imgbuild::fs
