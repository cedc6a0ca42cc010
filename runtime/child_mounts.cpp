#include "runtime/child_mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "runtime/child_fail.h"
#include "runtime/docker_defaults.h"

namespace imgbuild::runtime::child {
namespace {

int open_in_root(int rootfd, const char* rel, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, rootfd, *rel == '\0' ? "." : rel, &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return static_cast<int>(fd);
}

struct Option {
  const char* key;
  const char* value;
};

// fsopen + fsconfig + fsmount: a detached mount of a new filesystem instance.
int new_fs(const char* type, std::initializer_list<Option> options, unsigned attrs,
           const char* target) {
  int fsfd = ::fsopen(type, FSOPEN_CLOEXEC);
  if (fsfd < 0) die({"fsopen ", type});
  for (const Option& o : options) {
    if (::fsconfig(fsfd, FSCONFIG_SET_STRING, o.key, o.value, 0) < 0) {
      die({"fsconfig ", type, " ", o.key, "=", o.value});
    }
  }
  if (::fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    die({"mount ", type, " on ", target});
  }
  int mfd = ::fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
  if (mfd < 0) die({"fsmount ", type, " on ", target});
  ::close(fsfd);
  return mfd;
}

void attach(int mfd, int target_fd, const char* what, const char* target) {
  if (::move_mount(mfd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    die({"mount ", what, " on ", target});
  }
}

constexpr unsigned kSecure = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

void make_node(int dirfd, const char* name, unsigned major, unsigned minor) {
  if (::mknodat(dirfd, name, S_IFCHR | 0666, makedev(major, minor)) < 0) {
    die({"mknod /dev/", name});
  }
}

// Rootless: the host's node bind-mounted on an empty file (as runc does in a user namespace).
void bind_node(int dirfd, const char* name) {
  int fd = ::openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) die({"create /dev/", name});
  ::close(fd);
  char host[64] = "/dev/";
  std::strncat(host, name, sizeof host - 6);
  int tree = static_cast<int>(::open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (tree < 0) die({"open_tree ", host});
  if (::move_mount(tree, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0) die({"bind ", host});
  ::close(tree);
}

void make_link(int dirfd, const char* name, const char* target) {
  if (::symlinkat(target, dirfd, name) < 0) die({"symlink /dev/", name});
}

void make_dir(int dirfd, const char* name, mode_t mode) {
  if (::mkdirat(dirfd, name, mode) < 0) die({"mkdir /dev/", name});
}

int open_sub(int dirfd, const char* name, const char* target) {
  int fd = ::openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) die({"open ", target});
  return fd;
}

// A tmpfs /dev with Docker's device nodes and links, devpts, shm and mqueue.
void mount_dev(int target_fd, const char* target, const ChildPlan& plan) {
  bool rootless = plan.rootless;
  int dev = new_fs("tmpfs", {{"mode", "755"}, {"size", "65536k"}},
                   MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME, target);
  attach(dev, target_fd, "tmpfs", target);
  static constexpr struct {
    const char* name;
    unsigned major, minor;
  } kNodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (const auto& n : kNodes) {
    if (rootless) {
      bind_node(dev, n.name);
    } else {
      make_node(dev, n.name, n.major, n.minor);
    }
  }
  make_link(dev, "fd", "/proc/self/fd");
  make_link(dev, "stdin", "/proc/self/fd/0");
  make_link(dev, "stdout", "/proc/self/fd/1");
  make_link(dev, "stderr", "/proc/self/fd/2");
  make_link(dev, "core", "/proc/kcore");
  make_link(dev, "ptmx", "pts/ptmx");
  make_dir(dev, "pts", 0755);
  make_dir(dev, "shm", 01777);
  make_dir(dev, "mqueue", 0755);

  int pts = open_sub(dev, "pts", "/dev/pts");
  // gid 5 (tty) as Docker, where it exists: a single-id rootless map has no group 5.
  int m = plan.tty_group_mapped
              ? new_fs("devpts", {{"ptmxmode", "0666"}, {"mode", "0620"}, {"gid", "5"}},
                       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev/pts")
              : new_fs("devpts", {{"ptmxmode", "0666"}, {"mode", "0620"}},
                       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev/pts");
  attach(m, pts, "devpts", "/dev/pts");
  ::close(m);
  ::close(pts);

  int shm = open_sub(dev, "shm", "/dev/shm");
  m = new_fs("tmpfs", {{"mode", "1777"}, {"size", plan.shm_size}}, kSecure, "/dev/shm");
  attach(m, shm, "tmpfs", "/dev/shm");
  ::close(m);
  ::close(shm);

  int mq = open_sub(dev, "mqueue", "/dev/mqueue");
  m = new_fs("mqueue", {}, kSecure, "/dev/mqueue");
  attach(m, mq, "mqueue", "/dev/mqueue");
  ::close(m);
  ::close(mq);
  ::close(dev);
}

// A detached read-only (nosuid, nodev, noexec) recursive copy of the tree at path.
int bind_read_only(const char* path) {
  int tree = static_cast<int>(
      ::open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (tree < 0) return tree;
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_RDONLY | kSecure;
  if (::mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
    die({"mount_setattr ro ", path});
  }
  return tree;
}

// The tree is a detached mount the parent cloned from the resolved source (and made read-only
// where asked): nothing is looked up by path here, in the child's copy of the host's mounts.
void mount_bind(int target_fd, const ChildMount& m) {
  attach(m.tree_fd, target_fd, m.source, m.target);
}

}  // namespace

int prepare_root(const char* rootfs) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    die({"make / rprivate"});
  }
  // pivot_root needs the new root to be a mount point; a plain directory is not.
  if (::mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    die({"bind mount ", rootfs});
  }
  int fd = ::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) die({"open ", rootfs});
  return fd;
}

void mount_all(int rootfd, const ChildPlan& plan) {
  for (const ChildMount& m : plan.mounts) {
    int flags = O_PATH;
    if (m.type != ChildMount::Type::kBind) flags |= O_DIRECTORY;
    int target_fd = open_in_root(rootfd, m.target_rel, flags);
    if (target_fd < 0) die({"open mount target ", m.target});
    switch (m.type) {
      case ChildMount::Type::kProc: {
        int p = new_fs("proc", {}, kSecure, m.target);
        attach(p, target_fd, "proc", m.target);
        ::close(p);
        break;
      }
      case ChildMount::Type::kSys: {
        // A new sysfs belongs to the network namespace: rootless in the host's, the kernel
        // refuses it, and the host's /sys is bind-mounted read-only instead (as runc does).
        int s = plan.rootless && !plan.new_netns
                    ? bind_read_only("/sys")
                    : new_fs("sysfs", {}, kSecure | MOUNT_ATTR_RDONLY, m.target);
        if (s < 0) die({"open_tree /sys"});
        attach(s, target_fd, "sysfs", m.target);
        ::close(s);
        break;
      }
      case ChildMount::Type::kDev: mount_dev(target_fd, m.target, plan); break;
      case ChildMount::Type::kBind: mount_bind(target_fd, m); break;
      case ChildMount::Type::kTmpfs: {
        // Source "tmpfs" as runc names it (/proc/mounts would say "none").
        int t = *m.source == '\0'
                    ? new_fs("tmpfs", {{"source", "tmpfs"}}, MOUNT_ATTR_NOSUID, m.target)
                    : new_fs("tmpfs", {{"source", "tmpfs"}, {"size", m.source}}, MOUNT_ATTR_NOSUID,
                             m.target);
        attach(t, target_fd, "tmpfs", m.target);
        ::close(t);
        break;
      }
    }
    ::close(target_fd);
  }
}

void pivot_into(const char* rootfs) {
  int old_root = ::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (old_root < 0) die({"open /"});
  int new_root = ::open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (new_root < 0) die({"open ", rootfs});
  if (::fchdir(new_root) < 0) die({"fchdir ", rootfs});
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching "." afterwards
  // (from the old root's fd) leaves only the new root, with no directory needed for the old one.
  if (::syscall(SYS_pivot_root, ".", ".") < 0) die({"pivot_root ", rootfs});
  if (::fchdir(old_root) < 0) die({"fchdir old root"});
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) die({"make old root rslave"});
  if (::umount2(".", MNT_DETACH) < 0) die({"umount old root"});
  if (::chdir("/") < 0) die({"chdir /"});
  ::close(old_root);
  ::close(new_root);
}

void mask_paths() {
  for (const char* path : kMaskedPaths) {
    struct stat st {};
    if (::lstat(path, &st) < 0) continue;  // not present on this kernel
    int m;
    if (S_ISDIR(st.st_mode)) {
      m = new_fs("tmpfs", {}, kSecure | MOUNT_ATTR_RDONLY, path);
    } else {
      m = static_cast<int>(::open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
      if (m < 0) die({"open_tree /dev/null"});
    }
    if (::move_mount(m, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) die({"mask ", path});
    ::close(m);
  }
  for (const char* path : kReadonlyPaths) {
    int tree = bind_read_only(path);
    if (tree < 0) {
      if (errno == ENOENT) continue;
      die({"open_tree ", path});
    }
    if (::move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      die({"remount read-only ", path});
    }
    ::close(tree);
  }
}

void make_root_read_only() {
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) < 0) die({"remount / read-only"});
}

}  // namespace imgbuild::runtime::child
