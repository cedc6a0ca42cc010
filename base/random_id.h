// Random identifiers: container ids (64 hex digits, as Docker's), exec ids, temporary names.
// From getrandom(2), which blocks only before the kernel's pool is first initialised.
#pragma once

#include <cstddef>
#include <string>

#include "base/error.h"

namespace imgbuild {

// 2 * bytes lowercase hex digits.
Result<std::string> random_hex(size_t bytes);

}  // namespace imgbuild
