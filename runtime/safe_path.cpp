#include "runtime/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "base/eintr.h"
#include "base/path_clean.h"
#include "base/sys.h"

namespace imgbuild::runtime {

std::string clean_relative(const std::string& path) {
  return clean_path(path, DotDot::kClamp).value();  // kClamp never fails
}

Result<UniqueFd> open_in_root(int rootfd, const std::string& rel, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* p = rel.empty() ? "." : rel.c_str();
  // EAGAIN: a rename or mount raced the lookup (RESOLVE_IN_ROOT asks to retry).
  long fd;
  do {
    fd = sys::retry_eintr([&] { return ::syscall(SYS_openat2, rootfd, p, &how, sizeof how); });
  } while (fd < 0 && errno == EAGAIN);
  if (fd < 0) return fail_errno("openat2", "/" + rel);
  return UniqueFd(static_cast<int>(fd));
}

Result<std::string> read_file_in_root(int rootfd, const std::string& rel, size_t max_bytes) {
  UniqueFd fd = TRY(open_in_root(rootfd, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK));
  struct stat st = TRY(sys::fstat(fd.get(), "/" + rel));
  if (!S_ISREG(st.st_mode)) {
    return fail(ErrorKind::kInvalidArgument, "/" + rel + ": not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return fail(ErrorKind::kInvalidArgument,
                "/" + rel + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  return sys::read_all(fd.get(), "/" + rel);
}

Result<std::string> MountStubs::path_of(int fd) const {
  std::string link = TRY(sys::readlink_at(AT_FDCWD, "/proc/self/fd/" + std::to_string(fd)));
  if (link == root_real_) return std::string();
  if (link.size() > root_real_.size() && link.compare(0, root_real_.size(), root_real_) == 0 &&
      (root_real_ == "/" || link[root_real_.size()] == '/')) {
    return clean_relative(link.substr(root_real_.size()));
  }
  return fail(ErrorKind::kRuntime, "resolved path " + link + " is outside the root " + root_real_);
}

Result<std::string> MountStubs::ensure(const std::string& path, TargetKind kind) {
  return ensure_impl(clean_relative(path), kind, true, 0);
}

Status MountStubs::make_dirs(const std::string& path) {
  TRY(ensure_impl(clean_relative(path), TargetKind::kDirectory, false, 0));
  return {};
}

Result<std::string> MountStubs::ensure_impl(const std::string& rel, TargetKind kind, bool record,
                                            int depth) {
  if (depth > 40) return fail_errno("resolve", "/" + rel, ELOOP);
  auto existing = open_in_root(rootfd_, rel, O_PATH);
  if (existing) {
    if (kind == TargetKind::kDirectory) {
      struct stat st = TRY(sys::fstat(existing->get(), "/" + rel));
      if (!S_ISDIR(st.st_mode)) {
        return fail(ErrorKind::kRuntime, "mount target /" + rel + " is not a directory");
      }
    }
    return path_of(existing->get());
  }
  if (existing.error().errno_value() != ENOENT) return fail(existing.error());

  size_t slash = rel.rfind('/');
  std::string parent = slash == std::string::npos ? std::string() : rel.substr(0, slash);
  std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  std::string parent_real = TRY(ensure_impl(parent, TargetKind::kDirectory, record, depth + 1));
  UniqueFd pfd = TRY(open_in_root(rootfd_, parent_real, O_PATH | O_DIRECTORY));
  std::string created = parent_real.empty() ? name : parent_real + "/" + name;

  if (record) note_created_in(pfd.get(), parent_real, true);
  int rc;
  if (kind == TargetKind::kDirectory) {
    rc = ::mkdirat(pfd.get(), name.c_str(), 0755);
  } else {
    rc = ::openat(pfd.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                  0644);
    if (rc >= 0) ::close(rc);
  }
  if (rc == 0 || (kind == TargetKind::kFile && rc >= 0)) {
    if (record) {
      created_.push_back(created);
      note_created_in(pfd.get(), parent_real, false);
    }
    return created;
  }
  if (errno != EEXIST)
    return fail_errno(kind == TargetKind::kDirectory ? "mkdir" : "create", "/" + created);
  // The name exists but could not be resolved: a dangling symlink. Follow it inside the root.
  auto target = sys::readlink_at(pfd.get(), name);
  if (!target) {
    // Not a symlink: another container on the same root created it since we looked. Use it.
    if (target.error().errno_value() == EINVAL) return ensure_impl(rel, kind, false, depth + 1);
    return fail_errno("create", "/" + created, EEXIST);
  }
  std::string next =
      (!target->empty() && (*target)[0] == '/') ? *target : parent_real + "/" + *target;
  return ensure_impl(clean_relative(next), kind, record, depth + 1);
}

void MountStubs::note_created_in(int parent_fd, const std::string& parent_rel, bool before) {
  struct stat st {};
  if (::fstat(parent_fd, &st) != 0) return;
  auto it = std::ranges::find(touched_, parent_rel, &TouchedDir::rel);
  if (before) {
    if (it == touched_.end()) touched_.push_back({parent_rel, st.st_atim, st.st_mtim, st.st_mtim});
  } else if (it != touched_.end()) {
    it->mtime_after = st.st_mtim;
  }
}

void MountStubs::remove_all(int rootfd) {
  // Directories the container changed itself keep their new times.
  std::vector<const TouchedDir*> restore;
  for (const auto& dir : touched_) {
    auto fd = open_in_root(rootfd, dir.rel, O_PATH | O_DIRECTORY);
    struct stat st {};
    if (fd && ::fstat(fd->get(), &st) == 0 && st.st_mtim.tv_sec == dir.mtime_after.tv_sec &&
        st.st_mtim.tv_nsec == dir.mtime_after.tv_nsec) {
      restore.push_back(&dir);
    }
  }
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    const std::string& rel = *it;
    size_t slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? std::string() : rel.substr(0, slash);
    std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    auto pfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
    if (!pfd) continue;
    struct stat st {};
    if (::fstatat(pfd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ::unlinkat(pfd->get(), name.c_str(), AT_REMOVEDIR);  // fails harmlessly if not empty
    } else if (S_ISREG(st.st_mode) && st.st_size == 0) {
      ::unlinkat(pfd->get(), name.c_str(), 0);
    }
  }
  for (const TouchedDir* dir : restore) {
    auto fd = open_in_root(rootfd, dir->rel, O_RDONLY | O_DIRECTORY);
    struct timespec times[2] = {dir->atime, dir->mtime};
    if (fd) (void)::futimens(fd->get(), times);
  }
  created_.clear();
  touched_.clear();
}

}  // namespace imgbuild::runtime
