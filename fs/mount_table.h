// Reading the kernel's mount table and ending FUSE connections: what unmounting needs when the
// server is gone or stuck. Internal to fs/ (and the imgfs CLI commands). Thread-safe.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace imgbuild::fs {

// The device number of the topmost mount at mountpoint (an absolute, clean path) according to
// /proc/self/mountinfo, or nullopt if nothing is mounted there.
std::optional<dev_t> mounted_device(const std::string& mountpoint);

// Aborts the FUSE connection of the mount with device dev through fusectl
// (/sys/fs/fuse/connections/<dev>/abort, mounting fusectl if needed). Best effort.
void abort_fuse_connection(dev_t dev);

}  // namespace imgbuild::fs
