// Lower hard links after copy-up: when a file with several names in a lower layer is copied up
// through one name, every other name of it that the mount shows is linked to the upper copy at
// once, so the mount keeps showing one file and the upper (the layer diff) records every name of
// the changed file. The names are found by scanning the layer once and indexing its multi-link
// files by inode (lower layers never change, so the index stays valid).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "base/dir_reader.h"
#include "base/sys.h"
#include "fs/union_fs.h"

namespace imgbuild::fs {

namespace {

using Path = std::vector<std::string>;

// Walks the layer depth first with fd-relative calls, holding one open directory per level of the
// current path (not one per pending subdirectory: a wide tree must not need a descriptor per
// directory); depth is not bounded by PATH_MAX.
void index_layer(int root, std::unordered_map<ino_t, std::vector<Path>>* out) {
  struct Level {
    DirReader dir;
    Path path;
  };
  std::vector<Level> stack;
  auto descend = [&stack](int at, const std::string& name, Path path) {
    auto fd = sys::open_at(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd) return;
    auto dir = DirReader::open_fd(fd->get(), name);
    if (dir) stack.push_back({std::move(*dir), std::move(path)});
  };
  descend(root, ".", {});
  while (!stack.empty()) {
    DirReader& d = stack.back().dir;
    auto e = d.next();
    if (!e || !*e) {
      stack.pop_back();
      continue;
    }
    const std::string& name = (*e)->name;
    Path p = stack.back().path;
    p.push_back(name);
    if ((*e)->type == DT_DIR) {
      descend(d.fd(), name, std::move(p));
      continue;
    }
    if ((*e)->type != DT_REG && (*e)->type != DT_UNKNOWN) continue;
    struct stat st;
    if (::fstatat(d.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      descend(d.fd(), name, std::move(p));
      continue;
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink < 2) continue;
    (*out)[st.st_ino].push_back(std::move(p));
  }
}

}  // namespace

void Filesystem::link_lower_siblings(Node& file, const struct stat& lower_st) {
  int layer = file.lowers[0].layer;
  auto [it, fresh] = hardlink_index_.try_emplace(layer);
  // A lazy layer's tree grows as its directories are made; the other names of a made file are
  // always made with it (image/estargz_skeleton.h).
  bool lazy = static_cast<size_t>(layer) < options_.lazy.size() && options_.lazy[layer];
  if (fresh || lazy) {
    it->second.clear();
    int fd = reopen_fd(layer_roots_[static_cast<size_t>(layer)].get(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      UniqueFd root(fd);
      index_layer(root.get(), &it->second);
    }
  }
  auto names = it->second.find(lower_st.st_ino);
  if (names == it->second.end()) return;
  for (const Path& path : names->second) {
    // Walk the union to the name's directory; link only where the mount shows this very file.
    std::shared_ptr<Node> dir = node(FUSE_ROOT_ID);
    for (size_t i = 0; dir && i + 1 < path.size(); ++i) {
      Resolved r;
      if (resolve(*dir, path[i], &r) != 0 || !r.exists || !S_ISDIR(r.st.st_mode)) {
        release_unused(dir);
        dir.reset();
        break;
      }
      auto next = peek(dir, path[i], std::move(r));
      release_unused(dir);
      dir = std::move(next);
    }
    if (!dir) continue;
    Resolved r;
    if (resolve(*dir, path.back(), &r) == 0 && r.exists && !r.upper && !r.lowers.empty() &&
        r.lowers[0] == layer && r.st.st_ino == lower_st.st_ino) {
      link_other_name(*this, file, dir, path.back());
    }
    release_unused(dir);
  }
}

}  // namespace imgbuild::fs
