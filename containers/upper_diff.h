// What a container changed, as `docker diff` lists it, read from its imgfs upper directory (the
// upper is the change: nothing else is walked). Each path in the upper is "A" (added: in no lower
// layer) or "C" (changed: a lower layer has it; directories count as changed when something
// below them is); each whiteout ".wh.NAME" is "D" for NAME. Opaque markers are not listed.
// Lower layers are looked up with RESOLVE_IN_ROOT, so symlinks in a hostile layer never lead the
// lookup onto the host. Sorted by path. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace imgbuild::containers {

struct Change {
  char kind;         // 'A', 'C' or 'D'
  std::string path;  // absolute inside the container: "/etc/passwd"
  bool operator==(const Change&) const = default;
};

// lowers: the image's layer directories (any order).
Result<std::vector<Change>> upper_changes(const std::string& upper,
                                          const std::vector<std::string>& lowers);

}  // namespace imgbuild::containers
