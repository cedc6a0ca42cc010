// One wrapper per syscall the project uses often: retries EINTR, keeps errno in the Error, and
// names the operation and its subject in the message ("openat(etc/passwd): ENOENT ...").
// Paths are interpreted relative to dirfd (AT_FDCWD for the cwd), as the *at() calls do.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"

namespace imgbuild::sys {

// O_CLOEXEC is always added.
Result<UniqueFd> open_at(int dirfd, const std::string& path, int flags, mode_t mode = 0);
Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0);

Result<struct stat> fstat(int fd, std::string_view subject = "fd");
// flags: AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, ...
Result<struct stat> fstat_at(int dirfd, const std::string& path, int flags);
Result<struct stat> lstat(const std::string& path);

Status mkdir_at(int dirfd, const std::string& path, mode_t mode);
Status unlink_at(int dirfd, const std::string& path, int flags);
Status rename_at(int olddirfd, const std::string& oldpath, int newdirfd, const std::string& newpath,
                 unsigned flags = 0);
Status symlink_at(const std::string& target, int dirfd, const std::string& path);
Result<std::string> readlink_at(int dirfd, const std::string& path);
Status fsync(int fd, std::string_view subject = "fd");

// Reads up to buf.size() bytes, retrying EINTR; returns 0 at EOF.
Result<size_t> read_some(int fd, std::span<char> buf, std::string_view subject = "fd");
// Writes all of data, retrying short writes and EINTR.
Status write_all(int fd, std::string_view data, std::string_view subject = "fd");
// Reads until EOF.
Result<std::string> read_all(int fd, std::string_view subject = "fd");

}  // namespace imgbuild::sys
