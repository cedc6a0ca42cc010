// One wrapper per syscall the project uses often: retries EINTR, keeps errno in the Error, and
// names the operation and its subject in the message ("openat(etc/passwd): ENOENT ...").
// Paths are interpreted relative to dirfd (AT_FDCWD for the cwd), as the *at() calls do.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>
#include <utility>

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
// pread(2) retrying EINTR; 0 at EOF.
Result<size_t> pread_some(int fd, std::span<char> buf, off_t offset,
                          std::string_view subject = "fd");
// Reads exactly buf.size() bytes, or up to EOF: returns how many (less only at EOF).
Result<size_t> read_exact(int fd, std::span<char> buf, std::string_view subject = "fd");
// Writes all of data at offset, retrying short writes and EINTR.
Status pwrite_all(int fd, std::string_view data, off_t offset, std::string_view subject = "fd");

// flock(2) retrying EINTR; with LOCK_NB a held lock is an error with errno EWOULDBLOCK.
Status flock(int fd, int operation, std::string_view subject);

// waitpid(pid, options) retrying EINTR: the wait status, or 0 when WNOHANG found pid running.
Result<int> wait_pid(pid_t pid, int options = 0);

// poll(2). EINTR counts as a timeout (0 ready): callers loop anyway and recheck their deadline.
Result<int> poll(std::span<struct pollfd> fds, int timeout_ms, std::string_view subject);

// pipe2(flags | O_CLOEXEC): {read end, write end}.
Result<std::pair<UniqueFd, UniqueFd>> pipe2(int flags, std::string_view subject);
// socketpair(domain, type | SOCK_CLOEXEC, 0).
Result<std::pair<UniqueFd, UniqueFd>> socketpair(int domain, int type, std::string_view subject);

}  // namespace imgbuild::sys
