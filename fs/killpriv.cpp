#include "fs/killpriv.h"

#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "fs/whiteout.h"

namespace imgbuild::fs {

namespace {

mode_t killed(mode_t mode) {
  mode_t out = mode & ~S_ISUID;
  if (mode & S_IXGRP) out &= ~S_ISGID;
  return out;
}

}  // namespace

bool kills_on_write(mode_t mode) { return S_ISREG(mode) && killed(mode) != mode; }

int clear_suid_sgid(int fd) {
  struct stat st;
  if (::fstat(fd, &st) < 0) return errno;
  if (!kills_on_write(st.st_mode)) return 0;
  // chmod through /proc: fd may be O_PATH, which fchmod refuses.
  if (::chmod(proc_fd_path(fd).c_str(), killed(st.st_mode) & 07777) < 0) return errno;
  return 0;
}

}  // namespace imgbuild::fs
