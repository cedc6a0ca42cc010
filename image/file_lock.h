// FileLock: an flock(2) on a lock file, held until destruction. flock locks belong to the open
// file description, so two FileLocks in one process exclude each other just like two processes
// do (and a thread taking an exclusive lock while its own process holds a shared one on another
// descriptor waits forever: the store's contract forbids that). Move-only.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace imgbuild::image {

enum class LockMode { kShared, kExclusive };
enum class LockWait { kBlock, kTry };

class FileLock {
 public:
  FileLock() = default;
  // Creates the lock file if needed. With LockWait::kTry an already-held lock yields nullopt-like
  // failure: kAlreadyExists "lock busy: <path>".
  static Result<FileLock> acquire(const std::string& path, LockMode mode,
                                  LockWait wait = LockWait::kBlock);

  bool held() const { return fd_.valid(); }
  UniqueFd release_fd() { return std::move(fd_); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace imgbuild::image
