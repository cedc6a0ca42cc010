// Helpers for the layer codec tests: a canonical text description of a directory tree (so two
// trees compare with one string equality and a failure shows the differing lines), and small
// file-making shortcuts. Test-only; header-only so every test file of unit_image can use it.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "base/sys.h"

namespace imgbuild::image::testing {

inline std::string read_whole(const std::string& path) {
  auto fd = sys::open(path, O_RDONLY);
  REQUIRE(fd);
  auto data = sys::read_all(fd->get());
  REQUIRE(data);
  return *data;
}

inline void write_whole(const std::string& path, std::string_view data, mode_t mode = 0644) {
  auto fd = sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  REQUIRE(fd);
  REQUIRE(sys::write_all(fd->get(), data));
  REQUIRE(fchmod(fd->get(), mode) == 0);
}

inline void set_mtime(const std::string& path, time_t t) {
  struct timespec ts[2] = {{t, 0}, {t, 0}};
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0);
}

inline std::string xattrs_of(const std::string& path) {
  char names[4096];
  ssize_t n = llistxattr(path.c_str(), names, sizeof names);
  if (n <= 0) return "";
  std::vector<std::string> keys;
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(strlen(names + i)) + 1) {
    keys.emplace_back(names + i);
  }
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const auto& k : keys) {
    if (k.rfind("system.", 0) == 0 || k == "security.selinux") continue;
    char value[4096];
    ssize_t v = lgetxattr(path.c_str(), k.c_str(), value, sizeof value);
    out += " " + k + "=" + Sha256::hex_of(std::string_view(value, v > 0 ? v : 0)).substr(0, 8);
  }
  return out;
}

// One line per entry below root (root excluded), in path order:
// "path type mode uid:gid mtime detail [xattrs]" where detail is the content hash and size for
// files (or "link=FIRST" for later names of a hard-linked inode), the target for symlinks, and
// major:minor for devices.
inline std::string describe_tree(const std::string& root, bool dir_mtimes = true) {
  std::vector<std::string> paths;
  std::vector<std::string> stack{""};
  while (!stack.empty()) {
    std::string rel = stack.back();
    stack.pop_back();
    DIR* d = opendir((root + "/" + rel).c_str());
    REQUIRE(d != nullptr);
    while (struct dirent* de = readdir(d)) {
      std::string n = de->d_name;
      if (n == "." || n == "..") continue;
      std::string child = rel.empty() ? n : rel + "/" + n;
      paths.push_back(child);
      if (de->d_type == DT_DIR) stack.push_back(child);
    }
    closedir(d);
  }
  std::sort(paths.begin(), paths.end());
  std::map<std::pair<dev_t, ino_t>, std::string> first_name;
  std::string out;
  for (const auto& rel : paths) {
    std::string full = root + "/" + rel;
    struct stat st {};
    REQUIRE(lstat(full.c_str(), &st) == 0);
    std::string line = rel + " ";
    char type = '?';
    std::string detail;
    switch (st.st_mode & S_IFMT) {
      case S_IFREG: {
        type = 'f';
        auto [it, inserted] = first_name.try_emplace({st.st_dev, st.st_ino}, rel);
        detail = inserted ? std::to_string(st.st_size) + ":" +
                                Sha256::hex_of(read_whole(full)).substr(0, 12)
                          : "link=" + it->second;
        break;
      }
      case S_IFDIR: type = 'd'; break;
      case S_IFLNK: {
        type = 'l';
        auto target = sys::readlink_at(AT_FDCWD, full);
        REQUIRE(target);
        detail = "-> " + *target;
        break;
      }
      case S_IFCHR:
      case S_IFBLK:
        type = S_ISCHR(st.st_mode) ? 'c' : 'b';
        detail = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
        break;
      case S_IFIFO: type = 'p'; break;
    }
    char mode[16];
    snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    line += std::string(1, type) + " " + mode + " " + std::to_string(st.st_uid) + ":" +
            std::to_string(st.st_gid) + " ";
    if (type != 'l') {  // symlink mode bits are meaningless on Linux
      line += (type == 'd' && !dir_mtimes) ? "-" : std::to_string(st.st_mtim.tv_sec);
    } else {
      line += std::to_string(st.st_mtim.tv_sec);
    }
    if (!detail.empty()) line += " " + detail;
    line += xattrs_of(full);
    out += line + "\n";
  }
  return out;
}

}  // namespace imgbuild::image::testing
