#include "image/file_lock.h"

#include <sys/file.h>

#include "base/sys.h"

namespace imgbuild::image {

Result<FileLock> FileLock::acquire(const std::string& path, LockMode mode, LockWait wait) {
  UniqueFd fd = TRY(sys::open(path, O_RDWR | O_CREAT, 0644));
  int op = (mode == LockMode::kShared ? LOCK_SH : LOCK_EX) | (wait == LockWait::kTry ? LOCK_NB : 0);
  if (auto locked = sys::flock(fd.get(), op, path); !locked) {
    if (locked.error().errno_value() == EWOULDBLOCK) {
      return fail(ErrorKind::kAlreadyExists, "lock busy: " + path);
    }
    return fail(locked.error());
  }
  return FileLock(std::move(fd));
}

}  // namespace imgbuild::image
