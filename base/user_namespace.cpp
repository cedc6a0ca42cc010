#include "base/user_namespace.h"

#include <cstdio>

#include "base/fs.h"

namespace imgbuild {

bool in_user_namespace() {
  auto map = fs::read_file("/proc/self/uid_map");
  if (!map) return false;
  unsigned long inside = 1, outside = 1, count = 0;
  if (std::sscanf(map->c_str(), "%lu %lu %lu", &inside, &outside, &count) != 3) return false;
  return !(inside == 0 && outside == 0 && count == 4294967295UL);
}

}  // namespace imgbuild
