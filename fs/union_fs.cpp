#include "fs/union_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "base/sys.h"
#include "fs/whiteout.h"

namespace imgbuild::fs {

int reopen_fd(int opath_fd, int flags) {
  // O_NOFOLLOW would refuse the /proc magic link itself (ELOOP); the fd already names the file.
  flags &= ~O_NOFOLLOW;
  int fd = ::open(proc_fd_path(opath_fd).c_str(), flags | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

namespace {

UniqueFd open_path(int dirfd, const std::string& name) {
  return UniqueFd(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
}

Result<UniqueFd> open_layer_dir(const std::string& path, std::string_view what) {
  auto fd = sys::open(path, O_PATH | O_DIRECTORY);
  if (!fd) return fail(fd.error().with_context(std::string(what) + " " + path));
  return std::move(*fd);
}

}  // namespace

Result<std::unique_ptr<Filesystem>> Filesystem::create(const MountOptions& options) {
  std::unique_ptr<Filesystem> fs(new Filesystem(options));
  auto root = std::make_shared<Node>();
  root->ino = FUSE_ROOT_ID;
  root->type = S_IFDIR;
  root->nlookup = 1;  // the kernel's reference to the root is never forgotten
  bool opaque = false;
  if (!options.upper.empty()) {
    fs->upper_root_ = TRY(open_layer_dir(options.upper, "upper directory"));
    auto st = TRY(sys::fstat(fs->upper_root_.get(), options.upper));
    fs->upper_dev_ = st.st_dev;
    root->upper = UniqueFd(::fcntl(fs->upper_root_.get(), F_DUPFD_CLOEXEC, 0));
    root->in_upper = true;
    fs->inos_[{st.st_dev, st.st_ino}] = FUSE_ROOT_ID;
    opaque = is_opaque_dir(fs->upper_root_.get());
  }
  for (size_t i = 0; i < options.lowers.size(); ++i) {
    UniqueFd fd = TRY(open_layer_dir(options.lowers[i], "lower directory"));
    auto st = TRY(sys::fstat(fd.get(), options.lowers[i]));
    fs->lower_devs_.push_back(st.st_dev);
    if (!root->upper && root->lowers.empty()) fs->inos_[{st.st_dev, st.st_ino}] = FUSE_ROOT_ID;
    if (!opaque) {
      opaque = is_opaque_dir(fd.get());
      root->lowers.push_back(LowerRef{static_cast<int>(i), std::move(fd)});
    }
  }
  if (root->fd() < 0) {
    return fail(ErrorKind::kInvalidArgument,
                "imgfs needs at least one lower or an upper directory");
  }
  fs->nodes_[FUSE_ROOT_ID] = root;
  return fs;
}

std::shared_ptr<Node> Filesystem::node(fuse_ino_t ino) {
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? nullptr : it->second;
}

uint64_t Filesystem::ino_for(dev_t dev, ino_t ino) {
  auto [it, inserted] = inos_.try_emplace({dev, ino}, next_ino_);
  if (inserted) ++next_ino_;
  return it->second;
}

void Filesystem::forget_ino(dev_t dev, ino_t ino) { inos_.erase({dev, ino}); }

void Filesystem::bind_ino(dev_t dev, ino_t ino, uint64_t number) { inos_[{dev, ino}] = number; }

int Filesystem::resolve(const Node& dir, const std::string& name, Resolved* out) {
  if (name.size() > NAME_MAX) return ENAMETOOLONG;
  if (is_marker_name(name)) return 0;  // markers are never visible
  Resolved& r = *out;
  bool hidden = false;  // the lowers are hidden for this name
  bool stop = false;    // nothing further down merges into what was found
  if (dir.upper) {
    struct stat st;
    if (::fstatat(dir.upper.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (is_overlay_whiteout(st)) {
        hidden = true;
        r.upper_whiteout = true;
      } else {
        r.exists = true;
        r.st = st;
        r.upper = open_path(dir.upper.get(), name);
        if (!r.upper) return errno;
        if (!S_ISDIR(st.st_mode) || is_opaque_dir(r.upper.get())) stop = true;
      }
    } else if (errno != ENOENT) {
      return errno;
    }
    if (has_oci_whiteout(dir.upper.get(), name)) {
      hidden = true;
      r.upper_whiteout = true;
      stop = true;
    }
  }
  if (hidden && !r.exists) return 0;
  for (const LowerRef& lower : dir.lowers) {
    struct stat st;
    if (::fstatat(lower.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno != ENOENT) return errno;
      if (has_oci_whiteout(lower.fd.get(), name)) break;
      continue;
    }
    if (is_overlay_whiteout(st)) break;
    // A `.wh.NAME` beside NAME in one layer hides only the layers below; NAME stays visible.
    bool hides_below = has_oci_whiteout(lower.fd.get(), name);
    if (!hidden) r.lower_visible = true;
    if (stop) break;
    if (!r.exists) {
      r.exists = true;
      r.st = st;
    } else if (!S_ISDIR(st.st_mode)) {
      break;  // a non-directory below a directory is hidden by it, and hides what is below
    }
    UniqueFd fd = open_path(lower.fd.get(), name);
    if (!fd) return errno;
    bool opaque = S_ISDIR(st.st_mode) && is_opaque_dir(fd.get());
    r.lowers.push_back(LowerRef{lower.layer, std::move(fd)});
    if (!S_ISDIR(st.st_mode) || opaque || hides_below) break;
  }
  return 0;
}

std::shared_ptr<Node> Filesystem::make_node(const std::shared_ptr<Node>& dir,
                                            const std::string& name, Resolved&& r) {
  dev_t dev = r.upper ? upper_dev_ : lower_devs_[r.lowers[0].layer];
  uint64_t number = ino_for(dev, r.st.st_ino);
  auto it = nodes_.find(number);
  if (it != nodes_.end() && (it->second->type == (r.st.st_mode & S_IFMT))) {
    std::shared_ptr<Node> n = it->second;
    if (!n->is_dir() && n->upper && !r.upper && !r.lowers.empty()) {
      // Another name of a lower hard link whose file was copied up through a different name:
      // link the upper copy here too, so the upper stays the diff.
      link_other_name(*this, *n, dir, name);
    }
    // The name just resolved is certainly visible: remember it for copy-up (a directory may
    // have been renamed; a file may have lost the name it was first found under).
    n->parent = dir;
    n->name = name;
    n->unlinked = false;
    return n;
  }
  auto n = std::make_shared<Node>();
  n->ino = number;
  n->type = r.st.st_mode & S_IFMT;
  n->parent = dir;
  n->name = name;
  n->upper = std::move(r.upper);
  n->in_upper = n->upper.valid();
  n->lowers = std::move(r.lowers);
  if (!n->upper) {
    auto hl = hardlink_uppers_.find(number);
    if (hl != hardlink_uppers_.end()) {
      n->upper = UniqueFd(::fcntl(hl->second.get(), F_DUPFD_CLOEXEC, 0));
      n->in_upper = true;
      link_other_name(*this, *n, dir, name);
    }
  }
  nodes_[number] = n;
  return n;
}

std::shared_ptr<Node> Filesystem::peek(const std::shared_ptr<Node>& dir, const std::string& name,
                                       Resolved&& r) {
  auto n = make_node(dir, name, std::move(r));
  return n;
}

std::shared_ptr<Node> Filesystem::instantiate(const std::shared_ptr<Node>& dir,
                                              const std::string& name, Resolved&& r) {
  auto n = make_node(dir, name, std::move(r));
  ++n->nlookup;
  return n;
}

void Filesystem::forget(fuse_ino_t ino, uint64_t n) {
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return;
  Node& node = *it->second;
  node.nlookup = n >= node.nlookup ? 0 : node.nlookup - n;
  if (node.nlookup == 0 && ino != FUSE_ROOT_ID) nodes_.erase(it);
}

void Filesystem::release_unused(const std::shared_ptr<Node>& node) {
  if (!node || node->nlookup > 0 || node->ino == FUSE_ROOT_ID) return;
  auto it = nodes_.find(node->ino);
  if (it != nodes_.end() && it->second == node) nodes_.erase(it);
}

int Filesystem::stat_node(const Node& node, struct stat* st) {
  int fd = node.fd();
  if (fd < 0) return ESTALE;
  if (::fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) return errno;
  st->st_ino = node.ino;
  if (node.unlinked) st->st_nlink = 0;
  return 0;
}

}  // namespace imgbuild::fs
