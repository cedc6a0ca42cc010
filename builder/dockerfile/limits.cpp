#include "builder/dockerfile/limits.h"

#include <fcntl.h>

#include "base/sys.h"

namespace imgbuild::builder::dockerfile {

std::string format_size(uint64_t bytes) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}

Error word_too_large() {
  return Error(ErrorKind::kLimit, "expands to more than " + format_size(kMaxWordBytes));
}

Error word_too_costly() {
  return Error(ErrorKind::kLimit,
               "expansion takes more than " + std::to_string(kMaxWordSteps) + " steps");
}

Result<std::string> read_fd_limited(int fd, const std::string& name, size_t max_bytes) {
  std::string out;
  char buf[65536];
  for (;;) {
    size_t n = TRY(sys::read_some(fd, buf, name));
    if (n == 0) return out;
    if (n > max_bytes - out.size())
      return fail(ErrorKind::kLimit, name + ": file is larger than " + format_size(max_bytes));
    out.append(buf, n);
  }
}

Result<std::string> read_file_limited(const std::string& path, size_t max_bytes) {
  UniqueFd fd = TRY(sys::open(path, O_RDONLY));
  return read_fd_limited(fd.get(), path, max_bytes);
}

}  // namespace imgbuild::builder::dockerfile
