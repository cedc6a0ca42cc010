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
#include <vector>

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

class Materializer {
 public:
  Materializer(const EstargzIndex& index, int root) : index_(index), root_(root) {}

  // Makes the children of the directory at path, and of every marked directory on the way.
  Status directory(const std::string& path) {
    UniqueFd fd = TRY(walk(path));
    return at(fd.get(), path);
  }

 private:
  // The directory at path, open, every directory before it made. Never follows a symlink.
  Result<UniqueFd> walk(const std::string& path) {
    UniqueFd fd(::openat(root_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail_errno("open", "the layer's root");
    std::string done;
    for (size_t start = 0; start < path.size();) {
      size_t slash = path.find('/', start);
      if (slash == std::string::npos) slash = path.size();
      TRY(at(fd.get(), done));
      std::string name = path.substr(start, slash - start);
      done = child_of(done, name);
      UniqueFd next(
          ::openat(fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) return fail_errno("open", done);
      fd = std::move(next);
      start = slash + 1;
    }
    return fd;
  }

  // Makes the children of the directory open as fd (at path) if it is still marked.
  Status at(int fd, const std::string& path) {
    if (!is_marked_dir(fd) || in_progress_.count(path)) return {};
    if (::flock(fd, LOCK_EX) < 0) return fail_errno("flock", path);
    struct Unlock {
      int fd;
      ~Unlock() { ::flock(fd, LOCK_UN); }
    } unlock{fd};
    if (!is_marked_dir(fd)) return {};  // another process made it meanwhile
    in_progress_.insert(path);
    auto made = children(fd, path);
    in_progress_.erase(path);
    TRY_CTX(std::move(made), "making the lazy directory /" + path);
    // Creating the children changed the directory's times: the image's again.
    if (const auto* e = index_.lookup(path); e != nullptr && !path.empty()) {
      struct timespec ts[2] = {toc_time(e->modtime), toc_time(e->modtime)};
      if (::futimens(fd, ts) < 0) return fail_errno("futimens", path);
    }
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

  // What an interrupted materialisation left, but the opaque marker made with the directory.
  static Status clear(int fd, const std::string& path) {
    UniqueFd copy(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!copy) return fail_errno("open", path);
    DIR* d = ::fdopendir(copy.get());
    if (!d) return fail_errno("fdopendir", path);
    (void)copy.release();
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != ".." && name != kOpaqueMarker) names.push_back(name);
    }
    ::closedir(d);
    for (const auto& name : names) {
      if (::unlinkat(fd, name.c_str(), 0) < 0) {
        if (errno != EISDIR) return fail_errno("unlinkat", child_of(path, name));
        TRY(fs::remove_tree(fd_path(fd) + "/" + name));
      }
    }
    return {};
  }

  Status children(int fd, const std::string& path) {
    TRY(clear(fd, path));
    const auto& kids = index_.children(path);
    for (const auto* e : kids) {
      if (e->type != "symlink" && e->type != "hardlink") TRY(entry(fd, *e));
    }
    // Hard links (to placeholders, which they share with their target), then symlinks, so no
    // path used while making the tree passes through one.
    for (const auto* e : kids) {
      if (e->type == "hardlink") TRY(hardlink(fd, *e));
    }
    for (const auto* e : kids) {
      if (e->type != "symlink") continue;
      std::string name = base_name(EstargzIndex::clean(e->name));
      if (::symlinkat(e->link_name.c_str(), fd, name.c_str()) < 0) {
        return fail_errno("symlinkat", e->name);
      }
      TRY(set_owner(fd, name, *e));
    }
    bool devices = ::geteuid() == 0;
    for (const auto* e : kids) {
      if ((e->type == "char" || e->type == "block") && !devices) continue;
      if (e->type == "hardlink" || e->type == "reg") continue;  // the target's; set when made
      TRY(set_times(fd, base_name(EstargzIndex::clean(e->name)), *e));
    }
    return {};
  }

  Status entry(int fd, const estargz::TocEntry& e) {
    std::string rel = EstargzIndex::clean(e.name);
    std::string name = base_name(rel);
    if (e.type == "dir") {
      if (::mkdirat(fd, name.c_str(), 0700) < 0) return fail_errno("mkdirat", e.name);
      UniqueFd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) return fail_errno("open", e.name);
      TRY(mark(sub.get(), kLazyDirXattr, e.name));
      // imgfs reads a directory's opacity from its parent's side (resolve): it must be there
      // before the directory's other children are.
      const auto* opaque = index_.lookup(child_of(rel, std::string(kOpaqueMarker)));
      if (opaque != nullptr && opaque->type == "reg") TRY(entry(sub.get(), *opaque));
    } else if (e.type == "reg") {
      return file(fd, name, e);
    } else if (e.type == "fifo") {
      if (::mkfifoat(fd, name.c_str(), 0600) < 0) return fail_errno("mkfifoat", e.name);
    } else if (e.type == "char" || e.type == "block") {
      if (::geteuid() != 0) return {};  // devices need root
      mode_t kind = e.type == "char" ? S_IFCHR : S_IFBLK;
      dev_t dev = makedev(static_cast<unsigned>(e.dev_major), static_cast<unsigned>(e.dev_minor));
      if (::mknodat(fd, name.c_str(), kind | 0600, dev) < 0) return fail_errno("mknodat", e.name);
    } else {
      return {};
    }
    TRY(set_owner(fd, name, e));
    TRY(set_xattrs(fd, name, e));
    if (::fchmodat(fd, name.c_str(), static_cast<mode_t>(e.mode & 07777), 0) < 0) {
      return fail_errno("fchmodat", e.name);
    }
    return {};
  }

  // A placeholder, made through its fd alone: a big directory's files are most of the cost of
  // making it, on the way to a first read.
  static Status file(int fd, const std::string& name, const estargz::TocEntry& e) {
    // Made with its mode where the umask keeps it (the new fd may write whatever the mode).
    auto mode = static_cast<mode_t>(e.mode & 07777);
    UniqueFd file(::openat(fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           mode & 0777));
    if (!file && errno == EEXIST && name == kOpaqueMarker) return {};  // made with its directory
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
    if (::linkat(dir.get(), base_name(target).c_str(), fd, name.c_str(), 0) < 0) {
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
