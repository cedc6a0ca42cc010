#include "image/estargz_skeleton.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "base/fs.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "image/image_config.h"

namespace imgbuild::image {
namespace {

Status set_times(int dirfd, const std::string& rel, const std::string& modtime) {
  time_t t = static_cast<time_t>(parse_rfc3339(modtime).value_or(0));  // absent: the epoch
  struct timespec ts[2] = {{t, 0}, {t, 0}};
  if (::utimensat(dirfd, rel.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) {
    return fail_errno("utimensat", rel);
  }
  return {};
}

Status set_owner(int dirfd, const std::string& rel, const estargz::TocEntry& e) {
  if (::fchownat(dirfd, rel.empty() ? "." : rel.c_str(), static_cast<uid_t>(e.uid),
                 static_cast<gid_t>(e.gid), AT_SYMLINK_NOFOLLOW) < 0 &&
      !(errno == EPERM && ::geteuid() != 0)) {
    return fail_errno("fchownat", rel);
  }
  return {};
}

Status set_xattrs(const std::string& path, const estargz::TocEntry& e) {
  for (const auto& [name, value] : e.xattrs) {
    if (name == kLazyXattr) continue;  // ours only
    if (::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) < 0 &&
        errno != ENOTSUP && errno != EPERM) {
      return fail_errno("lsetxattr " + name, path);
    }
  }
  return {};
}

Status make_parents(int dirfd, const std::string& rel) {
  for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
    std::string parent = rel.substr(0, slash);
    if (::mkdirat(dirfd, parent.c_str(), 0755) < 0 && errno != EEXIST) {
      return fail_errno("mkdirat", parent);
    }
  }
  return {};
}

Status make_entry(int dirfd, const std::string& root, const std::string& rel,
                  const estargz::TocEntry& e) {
  TRY(make_parents(dirfd, rel));
  mode_t perm = static_cast<mode_t>(e.mode & 07777);
  if (e.type == "dir") {
    if (!rel.empty() && ::mkdirat(dirfd, rel.c_str(), 0700) < 0 && errno != EEXIST) {
      return fail_errno("mkdirat", rel);
    }
  } else if (e.type == "reg") {
    UniqueFd fd(
        ::openat(dirfd, rel.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return fail_errno("create", rel);
    if (::ftruncate(fd.get(), e.size) < 0) return fail_errno("ftruncate", rel);
    if (e.size > 0 && ::fsetxattr(fd.get(), std::string(kLazyXattr).c_str(), "1", 1, 0) < 0) {
      return fail_errno("fsetxattr " + std::string(kLazyXattr), rel);
    }
  } else if (e.type == "fifo") {
    if (::mkfifoat(dirfd, rel.c_str(), 0600) < 0) return fail_errno("mkfifoat", rel);
  } else if (e.type == "char" || e.type == "block") {
    if (::geteuid() != 0) return {};  // devices need root
    mode_t kind = e.type == "char" ? S_IFCHR : S_IFBLK;
    dev_t dev = makedev(static_cast<unsigned>(e.dev_major), static_cast<unsigned>(e.dev_minor));
    if (::mknodat(dirfd, rel.c_str(), kind | 0600, dev) < 0) return fail_errno("mknodat", rel);
  } else {
    return {};  // links come later
  }
  TRY(set_owner(dirfd, rel, e));
  TRY(set_xattrs(fs::join(root, rel), e));
  if (::fchmodat(dirfd, rel.empty() ? "." : rel.c_str(), perm, 0) < 0) {
    return fail_errno("fchmodat", rel);
  }
  return {};
}

}  // namespace

Status make_estargz_skeleton(const EstargzIndex& index, const std::string& dir) {
  std::string staging = dir + ".tmp-" + std::to_string(::getpid());
  (void)fs::remove_tree(staging);
  if (::mkdir(staging.c_str(), 0755) < 0) return fail_errno("mkdir", staging);
  auto result = [&]() -> Status {
    UniqueFd root(::open(staging.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return fail_errno("open", staging);
    std::vector<const estargz::TocEntry*> links, dirs;
    for (const auto* e : index.entries()) {
      std::string rel = EstargzIndex::clean(e->name);
      if (e->type == "symlink" || e->type == "hardlink") {
        links.push_back(e);
        continue;
      }
      TRY_CTX(make_entry(root.get(), staging, rel, *e), "eStargz skeleton");
      if (e->type == "dir") dirs.push_back(e);
    }
    // Hard links first (to placeholders, which they share with their target), symlinks last.
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto* e : links) {
        if ((pass == 0) != (e->type == "hardlink")) continue;
        std::string rel = EstargzIndex::clean(e->name);
        TRY(make_parents(root.get(), rel));
        if (e->type == "hardlink") {
          std::string target = EstargzIndex::clean(e->link_name);
          struct stat st {};
          if (index.lookup(target) == nullptr ||
              ::fstatat(root.get(), target.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
              S_ISDIR(st.st_mode)) {
            return fail(ErrorKind::kCorrupt, "eStargz TOC: hard link " + e->name +
                                                 " to a missing entry " + e->link_name);
          }
          if (::linkat(root.get(), target.c_str(), root.get(), rel.c_str(), 0) < 0) {
            return fail_errno("linkat", rel);
          }
        } else {
          if (::symlinkat(e->link_name.c_str(), root.get(), rel.c_str()) < 0) {
            return fail_errno("symlinkat", rel);
          }
          TRY(set_owner(root.get(), rel, *e));
          TRY(set_times(root.get(), rel, e->modtime));
        }
      }
    }
    for (const auto* e : index.entries()) {
      if (e->type != "dir" && e->type != "symlink" && e->type != "hardlink") {
        if (e->type != "char" && e->type != "block") {
          TRY(set_times(root.get(), EstargzIndex::clean(e->name), e->modtime));
        }
      }
    }
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      std::string rel = EstargzIndex::clean((*it)->name);
      TRY(set_times(root.get(), rel.empty() ? "." : rel, (*it)->modtime));
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
