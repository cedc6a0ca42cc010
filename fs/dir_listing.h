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
int list_dir(Filesystem& fs, Node& dir, std::vector<DirEntry>* out);

// For the directory dir_name in parent_upper (the upper copy of a directory that looks empty
// through the mount): checks it holds only markers and removes them so it can be rmdir'ed. 0 or
// errno (ENOTEMPTY if anything else is there).
int clear_markers(int parent_upper, const std::string& dir_name);

}  // namespace imgbuild::fs
