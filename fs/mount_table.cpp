#include "fs/mount_table.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/mount_info.h"

namespace imgbuild::fs {

std::optional<dev_t> mounted_device(const std::string& mountpoint) {
  std::optional<dev_t> found;
  for (const auto& e : mountinfo::read()) {
    if (e.mount_point == mountpoint) found = e.dev;
  }
  return found;
}

void abort_fuse_connection(dev_t dev) {
  const char* dir = "/sys/fs/fuse/connections";
  std::string path = std::string(dir) + "/" + std::to_string(dev) + "/abort";
  if (::access(path.c_str(), F_OK) != 0) ::mount("fusectl", dir, "fusectl", 0, nullptr);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  [[maybe_unused]] ssize_t n = ::write(fd, "1", 1);
  ::close(fd);
}

}  // namespace imgbuild::fs
