#include "containers/disk_usage.h"

#include <filesystem>

namespace imgbuild::containers {

uint64_t tree_bytes(const std::string& dir) {
  namespace sfs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  for (sfs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace imgbuild::containers
