#include "fs/union_fs.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "base/sys.h"
#include "fs/fuse_ops.h"
#include "fs/whiteout.h"

namespace imgbuild::fs {

int reopen_fd(int opath_fd, int flags) {
  // O_NOFOLLOW would refuse the /proc magic link itself (ELOOP); the fd already names the file.
  flags &= ~O_NOFOLLOW;
  int fd = ::open(proc_fd_path(opath_fd).c_str(), flags | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

namespace {

// open_tree(2) (Linux 5.2; <linux/mount.h> clashes with glibc 2.36's <sys/mount.h>).
constexpr unsigned kOpenTreeClone = 1;
constexpr unsigned kAtRecursive = 0x8000;

Result<UniqueFd> open_layer_dir(const std::string& path, std::string_view what, bool clone) {
  if (clone) {
    // A private copy of the mount the layer is on, as kernel overlayfs takes: fds below it keep
    // the copy busy, never the caller's mount, so `umount LOWER` works as soon as the union is
    // unmounted, even while this process is still exiting. Without CAP_SYS_ADMIN (EPERM), before
    // Linux 5.2 (ENOSYS) or on an unbindable mount (EINVAL) the directory is held as it is.
    int fd = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, path.c_str(),
                                        kOpenTreeClone | kAtRecursive | O_CLOEXEC));
    if (fd >= 0) {
      UniqueFd tree(fd);
      struct stat st;
      if (::fstat(tree.get(), &st) == 0 && S_ISDIR(st.st_mode)) return tree;
    }
  }
  auto fd = sys::open(path, O_PATH | O_DIRECTORY);
  if (!fd) return fail(fd.error().with_context(std::string(what) + " " + path));
  return std::move(*fd);
}

// Lets the process use every fd its hard limit allows, as libfuse's passthrough_hp and
// fuse-overlayfs do: each file open through the mount holds one here. Returns the soft limit in
// force. The runtime sets containers' own limits explicitly, so they do not inherit this.
rlim_t raise_fd_limit() {
  struct rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) < 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    struct rlimit raised = {lim.rlim_max, lim.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim.rlim_cur = lim.rlim_max;
  }
  return lim.rlim_cur;
}

int stat_fd(int fd, struct stat* st) {
  return ::fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
}

}  // namespace

Result<std::unique_ptr<Filesystem>> Filesystem::create(const MountOptions& options) {
  size_t capacity = FdCache::capacity_for_limit(raise_fd_limit());
  std::unique_ptr<Filesystem> fs(new Filesystem(options, capacity));
  auto root = std::make_shared<Node>();
  root->ino = FUSE_ROOT_ID;
  root->type = S_IFDIR;
  root->nlookup = 1;  // the kernel's reference to the root is never forgotten
  bool opaque = false;
  bool clone = options.clone_layer_mounts;
  if (!options.upper.empty()) {
    fs->upper_root_ = TRY(open_layer_dir(options.upper, "upper directory", clone));
    auto st = TRY(sys::fstat(fs->upper_root_.get(), options.upper));
    fs->upper_dev_ = st.st_dev;
    root->has_upper = true;
    root->upper_dev = st.st_dev;
    root->upper_ino = st.st_ino;
    root->in_upper = true;
    fs->inos_[{st.st_dev, st.st_ino}] = FUSE_ROOT_ID;
    opaque = is_opaque_dir(fs->upper_root_.get());
  }
  for (size_t i = 0; i < options.lowers.size(); ++i) {
    UniqueFd fd = TRY(open_layer_dir(options.lowers[i], "lower directory", clone));
    auto st = TRY(sys::fstat(fd.get(), options.lowers[i]));
    fs->lower_devs_.push_back(st.st_dev);
    if (!root->has_upper && root->lowers.empty()) fs->inos_[{st.st_dev, st.st_ino}] = FUSE_ROOT_ID;
    if (!opaque) {
      opaque = is_opaque_dir(fd.get());
      root->lowers.push_back(LowerRef{static_cast<int>(i), {}});
    }
    fs->layer_roots_.push_back(std::move(fd));
  }
  if (!root->has_upper && root->lowers.empty()) {
    return fail(ErrorKind::kInvalidArgument,
                "imgfs needs at least one lower or an upper directory");
  }
  fs->nodes_[FUSE_ROOT_ID] = root;
  fs->live_[FUSE_ROOT_ID] = root;
  return fs;
}

Filesystem::~Filesystem() {
  for (FileHandle* h : handles_) delete h;
}

std::shared_ptr<Node> Filesystem::node(fuse_ino_t ino) {
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? nullptr : it->second;
}

std::shared_ptr<Node> Filesystem::live_node(uint64_t number) {
  if (auto n = node(number)) return n;
  auto it = live_.find(number);
  if (it == live_.end()) return nullptr;
  auto n = it->second.lock();
  if (!n) live_.erase(it);
  return n;
}

uint64_t Filesystem::ino_for(dev_t dev, ino_t ino) {
  auto [it, inserted] = inos_.try_emplace({dev, ino}, next_ino_);
  if (inserted) ++next_ino_;
  return it->second;
}

void Filesystem::forget_ino(dev_t dev, ino_t ino) { inos_.erase({dev, ino}); }

void Filesystem::bind_ino(dev_t dev, ino_t ino, uint64_t number) { inos_[{dev, ino}] = number; }

int Filesystem::open_lower_path(int layer, const std::string& path) {
  int root = layer_roots_[static_cast<size_t>(layer)].get();
  // The path runs through directories of a layer that never changes, so plain resolution finds
  // exactly them.
  if (path.size() < PATH_MAX) {
    int fd = ::openat(root, path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
  }
  // Deeper than one path may be: a component at a time.
  UniqueFd dir;
  int at = root;
  for (size_t start = 0;;) {
    size_t slash = path.find('/', start);
    std::string component = path.substr(start, slash == std::string::npos ? slash : slash - start);
    int fd = ::openat(at, component.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -errno;
    if (slash == std::string::npos) return fd;
    dir.reset(fd);
    at = dir.get();
    start = slash + 1;
  }
}

PinnedFd Filesystem::lower_fd(Node& node, size_t i) {
  if (i >= node.lowers.size()) return PinnedFd::error(ESTALE);
  LowerRef& lower = node.lowers[i];
  if (node.is_dir() && !lower.made) {
    // Every read of a lower directory's contents goes through here (resolve, list_dir, copy-up).
    auto layer = static_cast<size_t>(lower.layer);
    if (layer < options_.lazy.size() && options_.lazy[layer] && options_.materialize_lazy_dir) {
      if (int err = options_.materialize_lazy_dir(layer, node.lower_path)) {
        return PinnedFd::error(err);
      }
    }
    lower.made = true;
  }
  return open_lower(node, lower);
}

PinnedFd Filesystem::open_lower(Node& node, LowerRef& lower) {
  if (node.lower_path.empty()) {
    return PinnedFd::borrowed(layer_roots_[static_cast<size_t>(lower.layer)].get());
  }
  if (PinnedFd cached = fds_.get(lower.fd)) return cached;
  int fd = open_lower_path(lower.layer, node.lower_path);
  if (fd < 0) return PinnedFd::error(-fd == ENOENT ? ESTALE : -fd);
  return fds_.put(lower.fd, UniqueFd(fd));
}

PinnedFd Filesystem::lower_fd_for_lookup(Node& node, size_t i, const std::string& name) {
  if (i < node.lowers.size() && !node.lowers[i].made && options_.materialize_lazy_entry) {
    auto layer = static_cast<size_t>(node.lowers[i].layer);
    if (layer < options_.lazy.size() && options_.lazy[layer]) {
      // The directory stays "not made": a listing or copy-up of it still makes the rest.
      if (int err = options_.materialize_lazy_entry(layer, node.lower_path, name)) {
        return PinnedFd::error(err);
      }
      return open_lower(node, node.lowers[i]);
    }
  }
  return lower_fd(node, i);
}

bool Filesystem::lazy_file(const Node& node, size_t* layer) const {
  if (node.has_upper || !S_ISREG(node.type) || node.lowers.empty()) return false;
  *layer = static_cast<size_t>(node.lowers[0].layer);
  return lazy_layer(*layer);
}

PinnedFd Filesystem::upper_fd(Node& node) {
  if (!node.has_upper) return PinnedFd::error(ESTALE);
  if (!node.parent) return PinnedFd::borrowed(upper_root_.get());
  if (PinnedFd cached = fds_.get(node.upper)) return cached;
  PinnedFd dir = upper_fd(*node.parent);
  if (!dir) return PinnedFd::error(dir.error());
  UniqueFd fd(::openat(dir.get(), node.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return PinnedFd::error(errno == ENOENT ? ESTALE : errno);
  struct stat st;
  if (int err = stat_fd(fd.get(), &st)) return PinnedFd::error(err);
  // The name now names another file: only changes the node did not see lead here.
  if (st.st_dev != node.upper_dev || st.st_ino != node.upper_ino) return PinnedFd::error(ESTALE);
  return fds_.put(node.upper, std::move(fd));
}

PinnedFd Filesystem::top_fd(Node& node) {
  return node.has_upper ? upper_fd(node) : lower_fd(node, 0);
}

namespace {

// Lower copies are named by path from their layer's root when the path is short enough; the
// layer's directories never change, so the path finds exactly them.
bool by_lower_path(const Node& node) {
  return !node.has_upper && !node.lowers.empty() && !node.lower_path.empty() &&
         node.lower_path.size() < PATH_MAX - 32;
}

}  // namespace

int Filesystem::open_top(Node& node, int flags) {
  if (by_lower_path(node)) {
    if (PinnedFd cached = fds_.get(node.lowers[0].fd)) return reopen_fd(cached.get(), flags);
    int root = layer_roots_[static_cast<size_t>(node.lowers[0].layer)].get();
    int fd = ::openat(root, node.lower_path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) return fd;
    return errno == ENOENT ? -ESTALE : -errno;
  }
  PinnedFd fd = top_fd(node);
  return fd ? reopen_fd(fd.get(), flags) : -fd.error();
}

std::string Filesystem::top_path(Node& node, std::optional<PinnedFd>* hold, int* err) {
  if (by_lower_path(node)) {
    int root = layer_roots_[static_cast<size_t>(node.lowers[0].layer)].get();
    return proc_fd_path(root) + "/" + node.lower_path;
  }
  hold->emplace(top_fd(node));
  if (!**hold) {
    *err = (*hold)->error();
    return "";
  }
  return proc_fd_path((*hold)->get());
}

void Filesystem::keep_upper_fd(Node& node) {
  if (!node.has_upper || !node.parent) return;
  PinnedFd fd = upper_fd(node);
  if (fd) fds_.keep(node.upper);
}

void Filesystem::set_upper(Node& node, const struct stat& st) {
  node.has_upper = true;
  node.upper_dev = st.st_dev;
  node.upper_ino = st.st_ino;
  bind_ino(upper_dev_, st.st_ino, node.ino);
  node.in_upper = true;
}

int Filesystem::resolve(Node& dir, const std::string& name, Resolved* out) {
  if (name.size() > NAME_MAX) return ENAMETOOLONG;
  if (is_marker_name(name)) return 0;  // markers are never visible
  Resolved& r = *out;
  bool hidden = false;  // the lowers are hidden for this name
  bool stop = false;    // nothing further down merges into what was found
  if (dir.has_upper) {
    PinnedFd d = upper_fd(dir);
    if (!d) return d.error();
    struct stat st;
    if (::fstatat(d.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (is_overlay_whiteout(st)) {
        hidden = true;
        r.upper_whiteout = true;
      } else {
        r.exists = true;
        r.st = st;
        r.upper = true;
        if (!S_ISDIR(st.st_mode) || is_opaque_entry(d.get(), name)) stop = true;
      }
    } else if (errno != ENOENT) {
      return errno;
    }
    if (has_oci_whiteout(d.get(), name)) {
      hidden = true;
      r.upper_whiteout = true;
      stop = true;
    }
  }
  if (hidden && !r.exists) return 0;
  for (size_t i = 0; i < dir.lowers.size(); ++i) {
    PinnedFd d = lower_fd_for_lookup(dir, i, name);
    if (!d) return d.error();
    struct stat st;
    if (::fstatat(d.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno != ENOENT) return errno;
      if (has_oci_whiteout(d.get(), name)) break;
      continue;
    }
    if (is_overlay_whiteout(st)) break;
    // A `.wh.NAME` beside NAME in one layer hides only the layers below; NAME stays visible.
    bool hides_below = has_oci_whiteout(d.get(), name);
    if (!hidden) r.lower_visible = true;
    if (stop) break;
    if (!r.exists) {
      r.exists = true;
      r.st = st;
    } else if (!S_ISDIR(st.st_mode)) {
      break;  // a non-directory below a directory is hidden by it, and hides what is below
    }
    bool opaque = S_ISDIR(st.st_mode) && is_opaque_entry(d.get(), name);
    r.lowers.push_back(dir.lowers[i].layer);
    if (!S_ISDIR(st.st_mode) || opaque || hides_below) break;
  }
  return 0;
}

std::shared_ptr<Node> Filesystem::make_node(const std::shared_ptr<Node>& dir,
                                            const std::string& name, Resolved&& r) {
  dev_t dev = r.upper ? upper_dev_ : lower_devs_[static_cast<size_t>(r.lowers[0])];
  uint64_t number = ino_for(dev, r.st.st_ino);
  std::shared_ptr<Node> n = live_node(number);
  if (n && n->type == (r.st.st_mode & S_IFMT)) {
    if (!n->is_dir() && n->has_upper && !r.upper && !r.lowers.empty()) {
      // Another name of a lower hard link whose file was copied up through a different name:
      // link the upper copy here too, so the upper stays the diff.
      link_other_name(*this, *n, dir, name);
    }
    // The name just resolved is certainly visible: remember it for copy-up and for reopening
    // the upper copy (a directory may have been renamed; a file may have lost the name it was
    // first found under).
    n->parent = dir;
    n->name = name;
    n->unlinked = false;
    nodes_[number] = n;
    return n;
  }
  n = std::make_shared<Node>();
  n->ino = number;
  n->type = r.st.st_mode & S_IFMT;
  n->parent = dir;
  n->name = name;
  if (r.upper) {
    n->has_upper = true;
    n->upper_dev = r.st.st_dev;
    n->upper_ino = r.st.st_ino;
    n->in_upper = true;
  }
  if (!r.lowers.empty()) {
    n->lowers.reserve(r.lowers.size());
    for (int layer : r.lowers) n->lowers.push_back(LowerRef{layer, {}});
    n->lower_path = dir->lower_path.empty() ? name : dir->lower_path + "/" + name;
  }
  nodes_[number] = n;
  live_[number] = n;
  if (live_.size() >= live_sweep_at_) {
    std::erase_if(live_, [](const auto& entry) { return entry.second.expired(); });
    live_sweep_at_ = std::max<size_t>(1024, 2 * live_.size());
  }
  return n;
}

std::shared_ptr<Node> Filesystem::peek(const std::shared_ptr<Node>& dir, const std::string& name,
                                       Resolved&& r) {
  return make_node(dir, name, std::move(r));
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

int Filesystem::stat_lower(Node& node, struct stat* st) {
  int err = stat_lower_on_disk(node, st);
  if (err == 0 && S_ISDIR(st->st_mode) && st->st_nlink >= 2 && !node.lowers[0].made &&
      options_.lazy_dir_nlink) {
    // A lazy directory counts the subdirectories made so far: the image's count instead.
    auto layer = static_cast<size_t>(node.lowers[0].layer);
    if (lazy_layer(layer)) {
      if (nlink_t n = options_.lazy_dir_nlink(layer, node.lower_path); n >= 2) st->st_nlink = n;
    }
  }
  return err;
}

int Filesystem::stat_lower_on_disk(Node& node, struct stat* st) {
  if (node.lowers.empty()) return ESTALE;
  if (PinnedFd cached = fds_.get(node.lowers[0].fd)) return stat_fd(cached.get(), st);
  if (node.lower_path.size() < PATH_MAX) {
    // No fd needed (lower paths never change): stat'ing every entry of a directory listing does
    // not churn the fd cache.
    int root = layer_roots_[static_cast<size_t>(node.lowers[0].layer)].get();
    if (node.lower_path.empty()) return stat_fd(root, st);
    if (::fstatat(root, node.lower_path.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0) return 0;
    return errno == ENOENT ? ESTALE : errno;
  }
  PinnedFd fd = lower_fd(node, 0);
  return fd ? stat_fd(fd.get(), st) : fd.error();
}

int Filesystem::stat_node(Node& node, struct stat* st) {
  int err = 0;
  if (!node.has_upper) {
    err = stat_lower(node, st);
  } else if (PinnedFd cached = fds_.get(node.upper); cached || !node.parent) {
    err = stat_fd(cached ? cached.get() : upper_root_.get(), st);
  } else {
    // Through the parent when the name still names the copy (the usual case), else the copy's
    // own fd.
    PinnedFd dir = upper_fd(*node.parent);
    if (!dir || ::fstatat(dir.get(), node.name.c_str(), st, AT_SYMLINK_NOFOLLOW) < 0 ||
        st->st_dev != node.upper_dev || st->st_ino != node.upper_ino) {
      PinnedFd fd = upper_fd(node);
      err = fd ? stat_fd(fd.get(), st) : fd.error();
    }
  }
  if (err) return err;
  st->st_ino = node.ino;
  if (node.unlinked) st->st_nlink = 0;
  return 0;
}

}  // namespace imgbuild::fs
