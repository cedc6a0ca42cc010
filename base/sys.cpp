#include "base/sys.h"

#include <stdio.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/eintr.h"

namespace imgbuild::sys {

Result<UniqueFd> open_at(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd = retry_eintr([&] { return ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return fail_errno("openat", path);
  return UniqueFd(fd);
}

Result<UniqueFd> open(const std::string& path, int flags, mode_t mode) {
  return open_at(AT_FDCWD, path, flags, mode);
}

Result<struct stat> fstat(int fd, std::string_view subject) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return fail_errno("fstat", subject);
  return st;
}

Result<struct stat> fstat_at(int dirfd, const std::string& path, int flags) {
  struct stat st {};
  if (::fstatat(dirfd, path.c_str(), &st, flags) < 0) return fail_errno("fstatat", path);
  return st;
}

Result<struct stat> lstat(const std::string& path) {
  return fstat_at(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
}

Status mkdir_at(int dirfd, const std::string& path, mode_t mode) {
  if (::mkdirat(dirfd, path.c_str(), mode) < 0) return fail_errno("mkdirat", path);
  return {};
}

Status unlink_at(int dirfd, const std::string& path, int flags) {
  if (::unlinkat(dirfd, path.c_str(), flags) < 0) return fail_errno("unlinkat", path);
  return {};
}

Status rename_at(int olddirfd, const std::string& oldpath, int newdirfd, const std::string& newpath,
                 unsigned flags) {
  if (::renameat2(olddirfd, oldpath.c_str(), newdirfd, newpath.c_str(), flags) < 0) {
    return fail_errno("renameat2", oldpath + " -> " + newpath);
  }
  return {};
}

Status symlink_at(const std::string& target, int dirfd, const std::string& path) {
  if (::symlinkat(target.c_str(), dirfd, path.c_str()) < 0) return fail_errno("symlinkat", path);
  return {};
}

Result<std::string> readlink_at(int dirfd, const std::string& path) {
  std::vector<char> buf(256);
  for (;;) {
    ssize_t n = ::readlinkat(dirfd, path.c_str(), buf.data(), buf.size());
    if (n < 0) return fail_errno("readlinkat", path);
    if (static_cast<size_t>(n) < buf.size()) return std::string(buf.data(), static_cast<size_t>(n));
    buf.resize(buf.size() * 2);
  }
}

Status fsync(int fd, std::string_view subject) {
  if (retry_eintr([&] { return ::fsync(fd); }) < 0) return fail_errno("fsync", subject);
  return {};
}

Result<size_t> read_some(int fd, std::span<char> buf, std::string_view subject) {
  ssize_t n = retry_eintr([&] { return ::read(fd, buf.data(), buf.size()); });
  if (n < 0) return fail_errno("read", subject);
  return static_cast<size_t>(n);
}

Status write_all(int fd, std::string_view data, std::string_view subject) {
  while (!data.empty()) {
    ssize_t n = retry_eintr([&] { return ::write(fd, data.data(), data.size()); });
    if (n < 0) return fail_errno("write", subject);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::string> read_all(int fd, std::string_view subject) {
  std::string out;
  char buf[65536];
  for (;;) {
    size_t n = TRY(read_some(fd, buf, subject));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

Result<size_t> pread_some(int fd, std::span<char> buf, off_t offset, std::string_view subject) {
  ssize_t n = retry_eintr([&] { return ::pread(fd, buf.data(), buf.size(), offset); });
  if (n < 0) return fail_errno("pread", subject);
  return static_cast<size_t>(n);
}

Result<size_t> read_exact(int fd, std::span<char> buf, std::string_view subject) {
  size_t got = 0;
  while (got < buf.size()) {
    size_t n = TRY(read_some(fd, buf.subspan(got), subject));
    if (n == 0) break;
    got += n;
  }
  return got;
}

Status pwrite_all(int fd, std::string_view data, off_t offset, std::string_view subject) {
  while (!data.empty()) {
    ssize_t n = retry_eintr([&] { return ::pwrite(fd, data.data(), data.size(), offset); });
    if (n < 0) return fail_errno("pwrite", subject);
    data.remove_prefix(static_cast<size_t>(n));
    offset += n;
  }
  return {};
}

Status flock(int fd, int operation, std::string_view subject) {
  if (retry_eintr([&] { return ::flock(fd, operation); }) < 0) return fail_errno("flock", subject);
  return {};
}

Result<int> wait_pid(pid_t pid, int options) {
  int status = 0;
  pid_t r = retry_eintr([&] { return ::waitpid(pid, &status, options); });
  if (r < 0) return fail_errno("waitpid", std::to_string(pid));
  return r == 0 ? 0 : status;
}

Result<int> poll(std::span<struct pollfd> fds, int timeout_ms, std::string_view subject) {
  int n = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), timeout_ms);
  if (n < 0 && errno == EINTR) return 0;
  if (n < 0) return fail_errno("poll", subject);
  return n;
}

Result<std::pair<UniqueFd, UniqueFd>> pipe2(int flags, std::string_view subject) {
  int fds[2];
  if (::pipe2(fds, flags | O_CLOEXEC) < 0) return fail_errno("pipe2", subject);
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<std::pair<UniqueFd, UniqueFd>> socketpair(int domain, int type, std::string_view subject) {
  int fds[2];
  if (::socketpair(domain, type | SOCK_CLOEXEC, 0, fds) < 0) {
    return fail_errno("socketpair", subject);
  }
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace imgbuild::sys
