// The calling process's mount table (/proc/self/mountinfo), for code that must find mounts it
// did not make itself: crash cleanup of a dead process's mounts, unmounting a stuck FUSE mount.
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.h"

namespace imgbuild::mountinfo {

struct Entry {
  dev_t dev = 0;
  std::string mount_point;  // unescaped, absolute
};

// Every mount, in table order (later entries are on top of earlier ones at the same point).
std::vector<Entry> read();

// Mount points at path or below it (path absolute and canonical), deepest first.
std::vector<std::string> points_under(const std::string& path);

// Lazily detaches (umount2 MNT_DETACH) every mount at or below path, deepest first: what is left
// of the mounts of a process that died (a dead FUSE server's mount answers ENOTCONN to everything,
// so the directory cannot be removed while it is mounted). Errors name the mount point.
Status detach_all_under(const std::string& path);

}  // namespace imgbuild::mountinfo
