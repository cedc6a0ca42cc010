// Bytes a directory tree holds: the sizes of its regular files (symlinks not followed, hard links
// counted once per name). What removing it frees, for `container prune`, `volume prune` and
// `system df`. Unreadable parts count as 0.
#pragma once

#include <cstdint>
#include <string>

namespace imgbuild::containers {

uint64_t tree_bytes(const std::string& dir);

}  // namespace imgbuild::containers
