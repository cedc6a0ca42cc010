#include "builder/unchanged_dirs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>

#include "base/dir_reader.h"
#include "base/sys.h"
#include "fs/whiteout.h"

namespace imgbuild::builder {
namespace {

using Xattrs = std::map<std::string, std::string>;

// The xattrs of the file open as fd (a directory opened O_RDONLY), or nullopt if unreadable.
std::optional<Xattrs> read_xattrs(int fd) {
  Xattrs out;
  std::string names(4096, '\0');
  ssize_t n = ::flistxattr(fd, names.data(), names.size());
  if (n < 0) return errno == ENOTSUP ? std::optional<Xattrs>(out) : std::nullopt;
  names.resize(static_cast<size_t>(n));
  for (size_t pos = 0; pos < names.size();) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    std::string value(65536, '\0');
    ssize_t v = ::fgetxattr(fd, name.c_str(), value.data(), value.size());
    if (v < 0) return std::nullopt;
    value.resize(static_cast<size_t>(v));
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

bool same_times(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

struct Pruner {
  std::vector<UniqueFd> lowers;  // O_PATH fds of the layer roots, top first
  size_t removed = 0;

  // The directory the lowers show at parts (from the root), opened O_RDONLY, or an invalid fd
  // when there is none or the answer is not certain.
  UniqueFd lower_dir(const std::vector<std::string>& parts) const {
    for (const auto& root : lowers) {
      UniqueFd dir(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
      if (!dir) return {};
      bool opaque_above = false;
      bool found = true;
      for (size_t k = 0; k < parts.size(); ++k) {
        const std::string& name = parts[k];
        if (fs::has_oci_whiteout(dir.get(), name)) return {};
        struct stat st {};
        if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          if (errno != ENOENT) return {};
          found = false;
          break;
        }
        if (!S_ISDIR(st.st_mode)) return {};  // a whiteout, or a file hiding what is below
        UniqueFd next(
            ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) return {};
        dir = std::move(next);
        if (k + 1 < parts.size() && fs::is_opaque_dir(dir.get())) opaque_above = true;
      }
      if (found) return dir;
      if (opaque_above) return {};  // this layer hides the path in the ones below
    }
    return {};
  }

  // a: the upper directory's stat from before anything below it was removed (which changes its
  // mtime).
  bool unchanged(int upper_dir, const struct stat& a, const std::vector<std::string>& parts) const {
    UniqueFd lower = lower_dir(parts);
    if (!lower) return false;
    struct stat b {};
    if (::fstat(lower.get(), &b) != 0) return false;
    if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid ||
        !same_times(a.st_mtim, b.st_mtim)) {
      return false;
    }
    auto xa = read_xattrs(upper_dir);
    auto xb = read_xattrs(lower.get());
    return xa && xb && *xa == *xb;
  }

  // Prunes below dirfd; returns whether it is empty afterwards.
  Result<bool> walk(int dirfd, std::vector<std::string>& parts, const std::string& subject) {
    auto reader = TRY(fs::DirReader::open_fd(dirfd, subject));
    std::vector<std::string> dirs;
    size_t entries = 0;
    while (auto e = TRY(reader.next())) {
      ++entries;
      bool is_dir = e->type == DT_DIR;
      if (e->type == DT_UNKNOWN) {
        struct stat st {};
        is_dir =
            ::fstatat(dirfd, e->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (is_dir) dirs.push_back(std::move(e->name));
    }
    for (const auto& name : dirs) {
      UniqueFd sub = TRY(sys::open_at(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      struct stat before = TRY(sys::fstat(sub.get(), subject + "/" + name));
      parts.push_back(name);
      bool empty = TRY(walk(sub.get(), parts, subject + "/" + name));
      bool drop = empty && unchanged(sub.get(), before, parts);
      parts.pop_back();
      if (!drop) continue;
      if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0) {
        return fail_errno("rmdir", subject + "/" + name);
      }
      ++removed;
      --entries;
    }
    return entries == 0;
  }
};

}  // namespace

Result<size_t> drop_unchanged_dirs(const std::string& upper,
                                   const std::vector<std::string>& lowers) {
  Pruner p;
  for (const auto& l : lowers) p.lowers.push_back(TRY(sys::open(l, O_PATH | O_DIRECTORY)));
  UniqueFd root = TRY(sys::open(upper, O_RDONLY | O_DIRECTORY));
  std::vector<std::string> parts;
  TRY(p.walk(root.get(), parts, upper));
  return p.removed;
}

}  // namespace imgbuild::builder
