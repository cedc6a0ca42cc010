// Records of `imgbuild mount`s in the store: <root>/mounts/<id>.json, where id is derived from the
// absolute mount point. Each record is a GC root in the store's format ({"manifests": [...]}, so
// prune keeps a mounted image) plus what `imgbuild mount` lists and `imgbuild umount` needs
// (mount point, image name, server pid, upper directory). Records are written atomically before
// the mount exists and removed after it is gone, so a crash leaves at worst a stale record, which
// listing removes once nothing is mounted there any more. Thread-safe (files only).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "image/digest.h"
#include "image/store.h"

namespace imgbuild::fs {

struct MountRecord {
  std::string mountpoint;  // absolute
  std::string image;       // as the user named it
  image::Digest manifest;
  pid_t pid = 0;      // the server process, 0 before it started
  std::string upper;  // empty for read-only mounts
  bool owned_upper =
      false;  // upper was created by imgbuild (under mounts/) and is removed at umount
};

std::string mount_record_path(const image::Store& store, const std::string& mountpoint);
// The mount server's log (fs/server.h): <root>/mounts/<id>.log, removed with the record.
std::string mount_log_path(const image::Store& store, const std::string& mountpoint);
// The directory imgbuild creates as the upper of `imgbuild mount --rw` without --upper.
std::string owned_upper_path(const image::Store& store, const std::string& mountpoint);
Status write_mount_record(const image::Store& store, const MountRecord& record);
// kNotFound when there is no record for mountpoint; kCorrupt when it does not parse.
Result<MountRecord> read_mount_record(const image::Store& store, const std::string& mountpoint);
// A record file that cannot be read or parsed. Its mount point is unknown, so nothing can clean
// it up automatically; it still keeps its image from being pruned (GC fails closed on it).
struct UnreadableMountRecord {
  std::string path;
  Error error;  // names the file
};

struct MountRecordList {
  std::vector<MountRecord> records;               // sorted by mount point
  std::vector<UnreadableMountRecord> unreadable;  // sorted by path
};

// Every record; fails only when the mounts directory itself cannot be listed.
Result<MountRecordList> list_mount_records(const image::Store& store);
// Removes the record and the server's log; a missing one is not an error.
Status remove_mount_record(const image::Store& store, const std::string& mountpoint);

}  // namespace imgbuild::fs
