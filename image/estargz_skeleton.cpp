#include "image/estargz_skeleton.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <unordered_set>
#include <vector>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/unique_fd.h"
#include "image/image_config.h"

namespace imgbuild::image {
namespace {

constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";  // fs/whiteout.h; read from the parent

std::string base_name(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

std::string parent_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

std::string child_of(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// The process's umask, read without changing it (umask(2) would race with other threads).
mode_t process_umask() {
  static const mode_t mask = [] {
    std::string status = fs::read_file("/proc/self/status").value_or("");
    size_t at = status.find("Umask:");
    if (at == std::string::npos) return mode_t{0777};  // unknown: always chmod
    return static_cast<mode_t>(std::strtoul(status.c_str() + at + 6, nullptr, 8));
  }();
  return mask;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

bool is_marked_dir(int fd) {
  return ::fgetxattr(fd, std::string(kLazyDirXattr).c_str(), nullptr, 0) >= 0;
}

struct timespec toc_time(const std::string& modtime) {
  return {static_cast<time_t>(parse_rfc3339(modtime).value_or(0)), 0};  // absent: the epoch
}

Status set_times(int dirfd, const std::string& name, const estargz::TocEntry& e) {
  struct timespec ts[2] = {toc_time(e.modtime), toc_time(e.modtime)};
  if (::utimensat(dirfd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) {
    return fail_errno("utimensat", e.name);
  }
  return {};
}

Status set_owner(int dirfd, const std::string& name, const estargz::TocEntry& e) {
  if (::fchownat(dirfd, name.c_str(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid),
                 AT_SYMLINK_NOFOLLOW) < 0 &&
      !(errno == EPERM && ::geteuid() != 0)) {
    return fail_errno("fchownat", e.name);
  }
  return {};
}

Status set_xattrs(int dirfd, const std::string& name, const estargz::TocEntry& e) {
  std::string path = fd_path(dirfd) + "/" + name;
  for (const auto& [key, value] : e.xattrs) {
    if (key == kLazyXattr || key == kLazyDirXattr) continue;  // ours only
    if (::lsetxattr(path.c_str(), key.c_str(), value.data(), value.size(), 0) < 0 &&
        errno != ENOTSUP && errno != EPERM) {
      return fail_errno("lsetxattr " + key, e.name);
    }
  }
  return {};
}

Status mark(int fd, std::string_view xattr, const std::string& subject) {
  if (::fsetxattr(fd, std::string(xattr).c_str(), "1", 1, 0) < 0) {
    return fail_errno("fsetxattr " + std::string(xattr), subject);
  }
  return {};
}

// flock(2) of a directory while its entries are made (processes sharing a tree take turns),
// released when it goes.
class DirLock {
 public:
  explicit DirLock(int fd) : fd_(::flock(fd, LOCK_EX) == 0 ? fd : -1) {}
  ~DirLock() {
    if (fd_ >= 0) ::flock(fd_, LOCK_UN);
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_;
};

// Names an entry has while it is being made, before renameat2 gives it its own: a directory's
// names that start so and are not in the TOC are what an interrupted materialisation left.
constexpr std::string_view kStagingPrefix = ".imgbuild-lazy-staging.";

class Materializer {
 public:
  Materializer(const EstargzIndex& index, int root) : index_(index), root_(root) {}

  // Makes the children of the directory at path, and the entries on the way to it.
  Status directory(const std::string& path) {
    UniqueFd fd = TRY(walk(path));
    return at(fd.get(), path);
  }

  // Makes the entry name of the directory at dir (and its whiteout `.wh.NAME`), and the entries
  // on the way to dir, but not their siblings.
  Status entry_named(const std::string& dir, const std::string& name) {
    UniqueFd fd = TRY(walk(dir));
    return one(fd.get(), dir, name);
  }

 private:
  // The directory at path, open, each component made in its directory if missing. Never follows a
  // symlink.
  Result<UniqueFd> walk(const std::string& path) {
    UniqueFd fd(::openat(root_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail_errno("open", "the layer's root");
    std::string done;
    for (size_t start = 0; start < path.size();) {
      size_t slash = path.find('/', start);
      if (slash == std::string::npos) slash = path.size();
      std::string name = path.substr(start, slash - start);
      TRY(one(fd.get(), done, name));
      done = child_of(done, name);
      UniqueFd next(
          ::openat(fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) return fail_errno("open", done);
      fd = std::move(next);
      start = slash + 1;
    }
    return fd;
  }

  // Makes the child name of the directory open as fd (at path) if the directory is still marked
  // and the child is not there yet. A hard link, or a file with other names, makes the whole
  // directory (at), so link counts are the image's.
  Status one(int fd, const std::string& path, const std::string& name) {
    if (!is_marked_dir(fd) || in_progress_.count(path)) return {};
    std::string rel = child_of(path, name);
    const auto* e = index_.lookup(rel);
    const auto* whiteout = index_.lookup(child_of(path, ".wh." + name));
    if (e == nullptr && whiteout == nullptr) return {};
    for (const auto* x : {e, whiteout}) {
      if (x != nullptr &&
          (x->type == "hardlink" || !index_.hardlinks_to(EstargzIndex::clean(x->name)).empty())) {
        return at(fd, path);
      }
    }
    DirLock lock(fd);
    if (!lock.held()) return fail_errno("flock", path);
    if (!is_marked_dir(fd)) return {};  // another process made it meanwhile
    bool changed = false;
    for (const auto* x : {e, whiteout}) {
      if (x == nullptr) continue;
      std::string base = base_name(EstargzIndex::clean(x->name));
      struct stat st;
      if (::fstatat(fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
      if (errno != ENOENT) return fail_errno("fstatat", x->name);
      TRY_CTX(make(fd, *x), "making the lazy entry /" + EstargzIndex::clean(x->name));
      changed = true;
    }
    if (changed) TRY(restore_times(fd, path));
    return {};
  }

  // Creating children changed the directory's times: the image's again.
  Status restore_times(int fd, const std::string& path) {
    if (const auto* e = index_.lookup(path); e != nullptr && !path.empty()) {
      struct timespec ts[2] = {toc_time(e->modtime), toc_time(e->modtime)};
      if (::futimens(fd, ts) < 0) return fail_errno("futimens", path);
    }
    return {};
  }

  // Makes the children of the directory open as fd (at path) if it is still marked.
  Status at(int fd, const std::string& path) {
    if (!is_marked_dir(fd) || in_progress_.count(path)) return {};
    DirLock lock(fd);
    if (!lock.held()) return fail_errno("flock", path);
    if (!is_marked_dir(fd)) return {};  // another process made it meanwhile
    in_progress_.insert(path);
    auto made = children(fd, path);
    in_progress_.erase(path);
    TRY_CTX(std::move(made), "making the lazy directory /" + path);
    TRY(restore_times(fd, path));
    if (::fremovexattr(fd, std::string(kLazyDirXattr).c_str()) < 0) {
      return fail_errno("fremovexattr", path);
    }
    // The other names of its hard-linked files, so their link counts are the image's.
    for (const auto* e : index_.children(path)) {
      for (const std::string& link : index_.hardlinks_to(EstargzIndex::clean(e->name))) {
        TRY(directory(parent_of(link)));
      }
    }
    return {};
  }

  // The names in the directory, without what an interrupted materialisation left half made.
  Result<std::unordered_set<std::string>> present(int fd, const std::string& path) {
    auto reader = TRY(fs::DirReader::open_fd(fd, path));
    std::unordered_set<std::string> names;
    std::vector<std::string> stale;
    while (auto entry = TRY(reader.next())) {
      std::string& name = entry->name;
      if (name.starts_with(kStagingPrefix) && index_.lookup(child_of(path, name)) == nullptr) {
        stale.push_back(std::move(name));
      } else {
        names.insert(std::move(name));
      }
    }
    for (const auto& name : stale) {
      if (::unlinkat(fd, name.c_str(), 0) < 0) {
        if (errno != EISDIR) return fail_errno("unlinkat", child_of(path, name));
        TRY(fs::remove_tree(fd_path(fd) + "/" + name));
      }
    }
    return names;
  }

  // Every child not made yet (by a lookup, or before an interruption): each entry is made whole
  // under a staging name and renamed into place, so one that is there is complete, and may
  // already be filled.
  Status children(int fd, const std::string& path) {
    auto there = TRY(present(fd, path));
    auto missing = [&](const estargz::TocEntry& e) {
      return !there.count(base_name(EstargzIndex::clean(e.name)));
    };
    const auto& kids = index_.children(path);
    for (const auto* e : kids) {
      if (e->type != "symlink" && e->type != "hardlink" && missing(*e)) TRY(make(fd, *e));
    }
    // Hard links (to placeholders, which they share with their target), then symlinks, so no
    // path used while making the tree passes through one.
    for (const auto* e : kids) {
      if (e->type == "hardlink" && missing(*e)) TRY(hardlink(fd, *e));
    }
    for (const auto* e : kids) {
      if (e->type == "symlink" && missing(*e)) TRY(make(fd, *e));
    }
    return {};
  }

  // Makes one entry in the directory open as fd: whole under a staging name, then renamed to its
  // own (never replacing one).
  Status make(int fd, const estargz::TocEntry& e) {
    if (e.type == "hardlink") return hardlink(fd, e);
    if ((e.type == "char" || e.type == "block") && ::geteuid() != 0) return {};  // need root
    if (e.type != "dir" && e.type != "reg" && e.type != "symlink" && e.type != "fifo" &&
        e.type != "char" && e.type != "block") {
      return {};
    }
    std::string name = base_name(EstargzIndex::clean(e.name));
    std::string staged;
    for (int attempt = 0;; ++attempt) {
      staged =
          std::string(kStagingPrefix) + std::to_string(::getpid()) + "." + std::to_string(attempt);
      auto made = staged_entry(fd, staged, e);
      if (made) break;
      if (made.error().errno_value() != EEXIST || attempt > 100) return fail(made.error());
    }
    if (::renameat2(fd, staged.c_str(), fd, name.c_str(), RENAME_NOREPLACE) < 0) {
      int err = errno;
      if (::unlinkat(fd, staged.c_str(), e.type == "dir" ? AT_REMOVEDIR : 0) < 0 &&
          e.type == "dir") {
        (void)fs::remove_tree(fd_path(fd) + "/" + staged);
      }
      if (err == EEXIST) return {};  // made meanwhile (through another name of this tree)
      return fail_errno("renameat2", e.name, err);
    }
    return {};
  }

  // The entry e at the new name `name` of the directory open as fd; EEXIST when name is taken.
  Status staged_entry(int fd, const std::string& name, const estargz::TocEntry& e) {
    if (e.type == "reg") return file(fd, name, e);
    if (e.type == "dir") {
      if (::mkdirat(fd, name.c_str(), 0700) < 0) return fail_errno("mkdirat", e.name);
      UniqueFd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) return fail_errno("open", e.name);
      TRY(mark(sub.get(), kLazyDirXattr, e.name));
      // imgfs reads a directory's opacity from its parent's side (resolve): it must be there
      // before the directory's other children are.
      std::string rel = EstargzIndex::clean(e.name);
      const auto* opaque = index_.lookup(child_of(rel, std::string(kOpaqueMarker)));
      if (opaque != nullptr && opaque->type == "reg") {
        TRY(file(sub.get(), std::string(kOpaqueMarker), *opaque));
      }
    } else if (e.type == "symlink") {
      if (::symlinkat(e.link_name.c_str(), fd, name.c_str()) < 0) {
        return fail_errno("symlinkat", e.name);
      }
      TRY(set_owner(fd, name, e));
      return set_times(fd, name, e);
    } else if (e.type == "fifo") {
      if (::mkfifoat(fd, name.c_str(), 0600) < 0) return fail_errno("mkfifoat", e.name);
    } else {
      mode_t kind = e.type == "char" ? S_IFCHR : S_IFBLK;
      dev_t dev = makedev(static_cast<unsigned>(e.dev_major), static_cast<unsigned>(e.dev_minor));
      if (::mknodat(fd, name.c_str(), kind | 0600, dev) < 0) return fail_errno("mknodat", e.name);
    }
    TRY(set_owner(fd, name, e));
    TRY(set_xattrs(fd, name, e));
    if (::fchmodat(fd, name.c_str(), static_cast<mode_t>(e.mode & 07777), 0) < 0) {
      return fail_errno("fchmodat", e.name);
    }
    return set_times(fd, name, e);
  }

  // A placeholder, made through its fd alone: a big directory's files are most of the cost of
  // making it, on the way to a first read.
  static Status file(int fd, const std::string& name, const estargz::TocEntry& e) {
    // Made with its mode where the umask keeps it (the new fd may write whatever the mode).
    auto mode = static_cast<mode_t>(e.mode & 07777);
    UniqueFd file(::openat(fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           mode & 0777));
    if (!file) return fail_errno("create", e.name);
    if (e.size > 0) {
      if (::ftruncate(file.get(), e.size) < 0) return fail_errno("ftruncate", e.name);
      TRY(mark(file.get(), kLazyXattr, e.name));
    }
    if ((static_cast<uid_t>(e.uid) != ::geteuid() || static_cast<gid_t>(e.gid) != ::getegid()) &&
        ::fchown(file.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) < 0 &&
        !(errno == EPERM && ::geteuid() != 0)) {
      return fail_errno("fchown", e.name);
    }
    if (!e.xattrs.empty()) TRY(set_xattrs(fd, name, e));
    if ((mode & ~0777) != 0 || (mode & process_umask()) != 0) {
      if (::fchmod(file.get(), mode) < 0) return fail_errno("fchmod", e.name);
    }
    struct timespec ts[2] = {toc_time(e.modtime), toc_time(e.modtime)};
    if (::futimens(file.get(), ts) < 0) return fail_errno("futimens", e.name);
    return {};
  }

  Status hardlink(int fd, const estargz::TocEntry& e) {
    std::string target = EstargzIndex::clean(e.link_name);
    const auto* t = index_.lookup(target);
    if (t == nullptr || t->type == "dir" || t->type == "symlink" || t->type == "hardlink") {
      return fail(ErrorKind::kCorrupt,
                  "eStargz TOC: hard link " + e.name + " to a missing entry " + e.link_name);
    }
    UniqueFd dir = TRY(walk(parent_of(target)));
    TRY(at(dir.get(), parent_of(target)));
    std::string name = base_name(EstargzIndex::clean(e.name));
    if (::linkat(dir.get(), base_name(target).c_str(), fd, name.c_str(), 0) < 0 &&
        errno != EEXIST) {
      return fail_errno("linkat", e.name);
    }
    return {};
  }

  const EstargzIndex& index_;
  int root_;
  std::set<std::string> in_progress_;  // directories being made, up the stack
};

}  // namespace

Status materialize_estargz_dir(const EstargzIndex& index, int root_fd, const std::string& path) {
  return Materializer(index, root_fd).directory(path);
}

Status materialize_estargz_entry(const EstargzIndex& index, int root_fd, const std::string& dir,
                                 const std::string& name) {
  return Materializer(index, root_fd).entry_named(dir, name);
}

Status make_estargz_skeleton(const EstargzIndex& index, const std::string& dir) {
  std::string staging = dir + ".tmp-" + std::to_string(::getpid());
  (void)fs::remove_tree(staging);
  if (::mkdir(staging.c_str(), 0755) < 0) return fail_errno("mkdir", staging);
  auto result = [&]() -> Status {
    UniqueFd root(::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) return fail_errno("open", staging);
    TRY(mark(root.get(), kLazyDirXattr, staging));
    TRY(materialize_estargz_dir(index, root.get(), ""));
    if (const auto* e = index.lookup(""); e != nullptr) {
      if (::fchown(root.get(), static_cast<uid_t>(e->uid), static_cast<gid_t>(e->gid)) < 0 &&
          !(errno == EPERM && ::geteuid() != 0)) {
        return fail_errno("fchown", staging);
      }
      TRY(set_xattrs(root.get(), ".", *e));
      if (::fchmod(root.get(), static_cast<mode_t>(e->mode & 07777)) < 0) {
        return fail_errno("fchmod", staging);
      }
      TRY(set_times(root.get(), ".", *e));
    }
    return {};
  }();
  if (!result) {
    (void)fs::remove_tree(staging);
    return fail(result.error().with_context("making " + dir));
  }
  if (::rename(staging.c_str(), dir.c_str()) < 0) {
    int err = errno;
    (void)fs::remove_tree(staging);
    return fail_errno("rename", dir, err);
  }
  return {};
}

}  // namespace imgbuild::image
