// The merged listing of a union directory: the names visible through the mount, whiteouts and
// opaque markers applied, markers hidden, each with the inode number lookup would give it.
// Internal to fs/. Call with Filesystem::mu held.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fs/union_fs.h"

namespace imgbuild::fs {

struct DirEntry {
  std::string name;
  uint64_t ino = 0;
  unsigned char type = 0;  // DT_*
};

// Fills out with dir's entries sorted by name (without "." and ".."). 0 or errno.
int list_dir(Filesystem& fs, const Node& dir, std::vector<DirEntry>* out);

// True if the upper copy of a directory that looks empty through the mount holds only markers;
// removes them so the directory can be rmdir'ed. 0 or errno (ENOTEMPTY if anything else).
int clear_markers(int upper_dir);

}  // namespace imgbuild::fs
