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

// A tree with every kind of entry a layer carries. Returns false for parts the kernel refused
// (user xattrs on a filesystem without them), so callers can warn.
inline bool make_rich_tree(const std::string& d) {
  REQUIRE(mkdir((d + "/etc").c_str(), 0755) == 0);
  REQUIRE(mkdir((d + "/tmp").c_str(), 0755) == 0);
  REQUIRE(chmod((d + "/tmp").c_str(), 01777) == 0);
  REQUIRE(mkdir((d + "/secret").c_str(), 0700) == 0);
  REQUIRE(mkdir((d + "/usr").c_str(), 0755) == 0);
  REQUIRE(mkdir((d + "/usr/bin").c_str(), 0755) == 0);
  write_whole(d + "/etc/hostname", "layer\n", 0644);
  write_whole(d + "/etc/empty", "", 0600);
  write_whole(d + "/usr/bin/tool", std::string(300000, 'x') + "end", 0755);
  write_whole(d + "/usr/bin/suid", "#!/bin/sh\n", 04755);
  write_whole(d + "/secret/key", "k", 0400);
  // Three names for one inode: the first in sorted order carries the data.
  write_whole(d + "/usr/bin/a-link", "shared contents\n", 0755);
  REQUIRE(link((d + "/usr/bin/a-link").c_str(), (d + "/usr/bin/b-link").c_str()) == 0);
  REQUIRE(link((d + "/usr/bin/a-link").c_str(), (d + "/etc/c-link").c_str()) == 0);
  REQUIRE(symlink("../usr/bin/tool", (d + "/etc/rel-symlink").c_str()) == 0);
  REQUIRE(symlink("/nonexistent/absolute", (d + "/etc/abs-symlink").c_str()) == 0);
  REQUIRE(mkfifo((d + "/tmp/fifo").c_str(), 0640) == 0);
  // OCI whiteouts are plain files and travel as such.
  write_whole(d + "/usr/.wh.gone", "", 0644);
  write_whole(d + "/secret/.wh..wh..opq", "", 0644);
  // A long path needs a PAX header.
  std::string deep = d + "/usr/" + std::string(120, 'n');
  REQUIRE(mkdir(deep.c_str(), 0755) == 0);
  write_whole(deep + "/" + std::string(150, 'm'), "deep\n");
  // 64 MiB hole, then data: must not be read from disk or held in memory.
  {
    auto fd = sys::open(d + "/sparse", O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd);
    REQUIRE(pwrite(fd->get(), "tail", 4, 64 << 20) == 4);
  }
  if (geteuid() == 0) {
    REQUIRE(mknod((d + "/etc/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    REQUIRE(mknod((d + "/etc/loop").c_str(), S_IFBLK | 0660, makedev(7, 0)) == 0);
    REQUIRE(lchown((d + "/etc/hostname").c_str(), 1234, 5678) == 0);
    REQUIRE(lchown((d + "/etc/rel-symlink").c_str(), 42, 43) == 0);
    REQUIRE(lchown((d + "/secret").c_str(), 1000, 1000) == 0);
    REQUIRE(lchown((d + "/usr/bin/suid").c_str(), 0, 50) == 0);
    REQUIRE(chmod((d + "/usr/bin/suid").c_str(), 06755) == 0);  // chown cleared the bits
    // A file capability (v2: cap_net_bind_service, permitted + effective).
    const unsigned char cap[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    REQUIRE(lsetxattr((d + "/usr/bin/tool").c_str(), "security.capability", cap, sizeof cap, 0) ==
            0);
  }
  bool xattrs = lsetxattr((d + "/etc/hostname").c_str(), "user.note", "hello", 5, 0) == 0;
  if (xattrs) {
    REQUIRE(lsetxattr((d + "/secret").c_str(), "user.dir", "v", 1, 0) == 0);
  }
  int t = 1600000000;
  for (const char* p :
       {"/etc/hostname", "/etc/empty", "/usr/bin/tool", "/etc/rel-symlink", "/tmp/fifo", "/sparse",
        "/usr/bin/a-link", "/etc", "/tmp", "/secret", "/usr/bin", "/usr"}) {
    set_mtime(d + p, t);
    t += 1000;
  }
  return xattrs;
}

}  // namespace imgbuild::image::testing
