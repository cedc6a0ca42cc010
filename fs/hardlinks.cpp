// Lower hard links after copy-up: when a file with several names in a lower layer is copied up
// through one name, every other name of it that the mount shows is linked to the upper copy at
// once, so the mount keeps showing one file and the upper (the layer diff) records every name of
// the changed file. The names are found by scanning the layer once and indexing its multi-link
// files by inode (lower layers never change, so the index stays valid).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fs/union_fs.h"

namespace imgbuild::fs {

namespace {

using Path = std::vector<std::string>;

// Walks the layer with fd-relative calls and an explicit stack (depth is not bounded by PATH_MAX).
void index_layer(int root, std::unordered_map<ino_t, std::vector<Path>>* out) {
  struct Pending {
    UniqueFd fd;
    Path path;
  };
  std::vector<Pending> stack;
  stack.push_back({UniqueFd(::openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)), {}});
  while (!stack.empty()) {
    Pending cur = std::move(stack.back());
    stack.pop_back();
    if (!cur.fd) continue;
    int fd = ::dup(cur.fd.get());
    DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
    if (!d) {
      if (fd >= 0) ::close(fd);
      continue;
    }
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (e->d_type == DT_DIR) {
        Path p = cur.path;
        p.push_back(name);
        stack.push_back({UniqueFd(::openat(cur.fd.get(), name.c_str(),
                                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)),
                         std::move(p)});
        continue;
      }
      if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
      struct stat st;
      if (::fstatat(cur.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
      if (!S_ISREG(st.st_mode) || st.st_nlink < 2) continue;
      Path p = cur.path;
      p.push_back(name);
      (*out)[st.st_ino].push_back(std::move(p));
    }
    ::closedir(d);
  }
}

}  // namespace

void Filesystem::link_lower_siblings(Node& file, const struct stat& lower_st) {
  int layer = file.lowers[0].layer;
  auto [it, fresh] = hardlink_index_.try_emplace(layer);
  if (fresh) {
    UniqueFd root(::openat(AT_FDCWD, options_.lowers[static_cast<size_t>(layer)].c_str(),
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root) index_layer(root.get(), &it->second);
  }
  auto names = it->second.find(lower_st.st_ino);
  if (names == it->second.end()) return;
  for (const Path& path : names->second) {
    // Walk the union to the name's directory; link only where the mount shows this very file.
    std::shared_ptr<Node> dir = node(FUSE_ROOT_ID);
    for (size_t i = 0; dir && i + 1 < path.size(); ++i) {
      Resolved r;
      if (resolve(*dir, path[i], &r) != 0 || !r.exists || !S_ISDIR(r.st.st_mode)) {
        dir.reset();
        break;
      }
      auto next = peek(dir, path[i], std::move(r));
      release_unused(dir);
      dir = std::move(next);
    }
    if (!dir) continue;
    Resolved r;
    if (resolve(*dir, path.back(), &r) != 0 || !r.exists || r.upper || r.lowers.empty()) continue;
    if (r.lowers[0].layer != layer || r.st.st_ino != lower_st.st_ino) continue;
    link_other_name(*this, file, dir, path.back());
    release_unused(dir);
  }
}

}  // namespace imgbuild::fs
