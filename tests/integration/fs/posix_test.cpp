// POSIX details union filesystems commonly get wrong, on a real imgfs mount.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <map>
#include <set>

#include "fs_fixture.h"

using namespace imgbuild::fs::test;

namespace {

// name -> d_ino, in readdir order.
std::vector<std::pair<std::string, ino_t>> list(const std::string& dir) {
  std::vector<std::pair<std::string, ino_t>> out;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d);
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.emplace_back(n, e->d_ino);
  }
  ::closedir(d);
  return out;
}

}  // namespace

TEST_CASE("imgfs works in trees deeper than PATH_MAX", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  // Build a lower tree 40 levels of 200-char names deep (> 8000 bytes) with *at() calls.
  std::string name(200, 'd');
  int fd = ::open(f.lower(0).c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(fd >= 0);
  for (int i = 0; i < 40; ++i) {
    REQUIRE(::mkdirat(fd, name.c_str(), 0755) == 0);
    int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(next >= 0);
    ::close(fd);
    fd = next;
  }
  int file = ::openat(fd, "leaf", O_CREAT | O_WRONLY, 0644);
  REQUIRE(file >= 0);
  REQUIRE(::write(file, "deep", 4) == 4);
  ::close(file);
  ::close(fd);
  f.mount();
  fd = ::open(f.mnt().c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(fd >= 0);
  for (int i = 0; i < 40; ++i) {
    int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(next >= 0);
    ::close(fd);
    fd = next;
  }
  // Copy-up at the bottom: every parent is copied up first.
  file = ::openat(fd, "leaf", O_WRONLY | O_APPEND);
  REQUIRE(file >= 0);
  REQUIRE(::write(file, "er", 2) == 2);
  ::close(file);
  REQUIRE(::mkdirat(fd, "new", 0755) == 0);
  REQUIRE(::unlinkat(fd, "leaf", 0) == 0);
  struct stat st;
  CHECK(::fstatat(fd, "leaf", &st, 0) == -1);
  CHECK(errno == ENOENT);
  ::close(fd);
  f.unmount();
  fd = ::open(f.upper().c_str(), O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < 40; ++i) {
    int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(next >= 0);
    ::close(fd);
    fd = next;
  }
  CHECK(::fstatat(fd, ".wh.leaf", &st, 0) == 0);
  CHECK(::fstatat(fd, "new", &st, 0) == 0);
  ::close(fd);
}

TEST_CASE("imgfs readdir and readdirplus agree on inode numbers with stat", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f;
  for (int i = 0; i < 50; ++i) write(f.lower(1) + "/d/f" + std::to_string(i), "x");
  for (int i = 25; i < 75; ++i) write(f.lower(0) + "/d/f" + std::to_string(i), "y");
  f.mount();
  write(f.m("d/f3"), "copied");  // one copied up
  write(f.m("d/new"), "n");      // one upper-only
  auto first = list(f.m("d"));   // readdirplus (first read of the directory)
  REQUIRE(first.size() == 76);
  std::set<ino_t> seen;
  for (auto& [name, ino] : first) {
    INFO(name);
    struct stat st;
    REQUIRE(::lstat(f.m("d/" + name).c_str(), &st) == 0);
    CHECK(st.st_ino == ino);
    seen.insert(ino);
  }
  CHECK(seen.size() == 76);        // unique across layers
  CHECK(list(f.m("d")) == first);  // plain readdir (entries cached) gives the same
}

TEST_CASE("imgfs readdir order is stable for thousands of entries", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f;
  for (int i = 0; i < 3000; ++i) write(f.lower(1) + "/big/e" + std::to_string(i), "");
  for (int i = 0; i < 3000; i += 3) whiteout(f.lower(0) + "/big/e" + std::to_string(i));
  f.mount();
  auto a = list(f.m("big"));
  auto b = list(f.m("big"));
  CHECK(a.size() == 2000);
  CHECK(a == b);
  // seekdir/telldir: positions stay valid while the directory changes.
  DIR* d = ::opendir(f.m("big").c_str());
  REQUIRE(d);
  std::vector<std::pair<long, std::string>> marks;
  for (int i = 0; i < 1500; ++i) {
    long pos = ::telldir(d);
    dirent* e = ::readdir(d);
    REQUIRE(e);
    if (i % 500 == 7) marks.emplace_back(pos, e->d_name);
  }
  write(f.m("big/zz-new"), "");
  REQUIRE(::unlink(f.m("big/e1").c_str()) == 0);
  for (auto& [pos, name] : marks) {
    ::seekdir(d, pos);
    dirent* e = ::readdir(d);
    REQUIRE(e);
    CHECK(name == e->d_name);
  }
  ::closedir(d);
}

TEST_CASE("imgfs readdir while modifying the directory sees each old name once",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  for (int i = 0; i < 500; ++i) write(f.lower(0) + "/d/n" + std::to_string(i), "");
  f.mount();
  DIR* d = ::opendir(f.m("d").c_str());
  REQUIRE(d);
  std::map<std::string, int> counts;
  int step = 0;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    counts[n]++;
    // Remove what was just read, add new names, rename others, as `rm -rf` or a build step does.
    if (n.starts_with("n")) REQUIRE(::unlink(f.m("d/" + n).c_str()) == 0);
    if (step++ % 10 == 0) write(f.m("d/added" + std::to_string(step)), "");
  }
  ::closedir(d);
  int old = 0;
  for (auto& [name, count] : counts) {
    INFO(name);
    CHECK(count == 1);
    if (name.starts_with("n")) ++old;
  }
  CHECK(old == 500);
  f.check_invariant();
}

TEST_CASE("imgfs st_nlink of hard links is right whichever names were looked up",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/h1", "h");
  REQUIRE(::link((f.lower(0) + "/h1").c_str(), (f.lower(0) + "/h2").c_str()) == 0);
  REQUIRE(::link((f.lower(0) + "/h1").c_str(), (f.lower(0) + "/h3").c_str()) == 0);
  f.mount();
  struct stat st;
  REQUIRE(::lstat(f.m("h3").c_str(), &st) == 0);
  CHECK(st.st_nlink == 3);
  write(f.m("u1"), "u");
  REQUIRE(::link(f.m("u1").c_str(), f.m("u2").c_str()) == 0);
  REQUIRE(::lstat(f.m("u2").c_str(), &st) == 0);
  CHECK(st.st_nlink == 2);
  REQUIRE(::unlink(f.m("u1").c_str()) == 0);
  REQUIRE(::lstat(f.m("u2").c_str(), &st) == 0);
  CHECK(st.st_nlink == 1);
}
