#include "fs/dir_listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "fs/whiteout.h"

namespace imgbuild::fs {

namespace {

// Raw DIR* rather than base/dir_reader.h: this runs in FUSE callbacks, which answer with an
// errno, and needs d_ino, which DirEntry does not carry.
struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Takes fd (a directory opened for reading) as a stream. 0 or errno.
int open_dir_stream(int fd, DirPtr* out) {
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int err = errno;
    ::close(fd);
    return err;
  }
  out->reset(d);
  return 0;
}

bool is_dot(const char* name) {
  return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0));
}

// d_type, falling back to fstatat on filesystems that do not fill it in; also detects
// overlay-style whiteouts (which need the device number).
unsigned char entry_type(DIR* d, const dirent* e, bool* overlay_whiteout) {
  unsigned char type = e->d_type;
  *overlay_whiteout = false;
  if (type == DT_CHR || type == DT_UNKNOWN) {
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      *overlay_whiteout = is_overlay_whiteout(st);
      type = static_cast<unsigned char>(IFTODT(st.st_mode));
    }
  }
  return type;
}

}  // namespace

int list_dir(Filesystem& fs, Node& dir, std::vector<DirEntry>* out) {
  std::unordered_map<std::string, DirEntry> seen;
  std::unordered_set<std::string> hidden;  // whited out by a layer above the one being read
  auto read_layer = [&](const PinnedFd& opath, dev_t dev) -> int {
    if (!opath) return opath.error();
    int fd = reopen_fd(opath.get(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -fd;
    DirPtr d;
    if (int err = open_dir_stream(fd, &d)) return err;
    std::vector<std::string> layer_hidden;
    errno = 0;
    while (dirent* e = ::readdir(d.get())) {
      if (is_dot(e->d_name)) continue;
      std::string_view name(e->d_name);
      if (is_marker_name(name)) {
        if (name != kOpaqueMarker) layer_hidden.emplace_back(name.substr(kWhiteoutPrefix.size()));
        continue;
      }
      bool whiteout = false;
      unsigned char type = entry_type(d.get(), e, &whiteout);
      if (whiteout) {
        layer_hidden.emplace_back(name);
        continue;
      }
      std::string key(name);
      if (hidden.count(key) || seen.count(key)) continue;
      seen.emplace(key, DirEntry{key, fs.ino_for(dev, e->d_ino), type});
    }
    if (errno) return errno;
    // Whiteouts apply to the layers below only; a name in the same layer stays visible.
    for (auto& name : layer_hidden) hidden.insert(std::move(name));
    return 0;
  };
  if (dir.has_upper) {
    if (int err = read_layer(fs.upper_fd(dir), fs.upper_dev())) return err;
  }
  for (size_t i = 0; i < dir.lowers.size(); ++i) {
    if (int err = read_layer(fs.lower_fd(dir, i), fs.lower_dev(dir.lowers[i].layer))) return err;
  }
  out->clear();
  out->reserve(seen.size());
  for (auto& [name, entry] : seen) out->push_back(std::move(entry));
  std::sort(out->begin(), out->end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return 0;
}

int clear_markers(int parent_upper, const std::string& dir_name) {
  int fd =
      ::openat(parent_upper, dir_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno;
  DirPtr d;
  if (int err = open_dir_stream(fd, &d)) return err;
  errno = 0;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    if (!is_dot(e->d_name)) names.emplace_back(e->d_name);
  }
  for (const std::string& name : names) {
    bool whiteout = false;
    struct stat st;
    if (::fstatat(::dirfd(d.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      whiteout = is_overlay_whiteout(st);
    }
    if (!is_marker_name(name) && !whiteout) return ENOTEMPTY;
    if (::unlinkat(::dirfd(d.get()), name.c_str(), 0) < 0) return errno;
  }
  return 0;
}

}  // namespace imgbuild::fs
