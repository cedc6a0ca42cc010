// A RUN step's upper directory holds every directory imgfs copied up, also the ones the step only
// passed through: creating and removing a file in /etc (a mount stub, a temporary file) copies
// /etc up. Such a directory, empty in the upper and with the same metadata as the directory the
// lower layers show at its path, changes nothing. drop_unchanged_dirs removes those (deepest
// first), so the layer holds only real changes and a step that changed nothing commits no layer,
// as with BuildKit's differ.
//
// Conservative: a directory is kept when the lowers' view of its path is not certain (a whiteout,
// an opaque directory or a non-directory on the way in a layer above the one that has it), when
// the lowers do not have it (it is new), or when mode, owner, mtime or xattrs differ. Lower layers
// are read with *at() calls below fds of their roots, never following symlinks.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace imgbuild::builder {

// upper: a step's upper after its mount is gone; lowers: the layer directories, TOP FIRST.
// Returns how many directories were removed.
Result<size_t> drop_unchanged_dirs(const std::string& upper,
                                   const std::vector<std::string>& lowers);

}  // namespace imgbuild::builder
