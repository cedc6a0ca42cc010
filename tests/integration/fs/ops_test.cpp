// Every operation through a real imgfs mount, checked against the expected union and against
// the upper-is-the-diff invariant.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>

#include "fs_fixture.h"

using namespace imgbuild::fs::test;
using imgbuild::fs::WhiteoutStyle;

namespace {

struct stat lstat_or_fail(const std::string& path) {
  struct stat st;
  INFO(path);
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

int lstat_errno(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? 0 : errno;
}

// A lower layer pair with a bit of everything.
void populate(Fixture& f) {
  write(f.lower(1) + "/etc/passwd", "root:x:0:0\n");
  write(f.lower(1) + "/etc/hosts", "127.0.0.1 localhost\n");
  write(f.lower(1) + "/gone", "old\n");
  write(f.lower(1) + "/dir/a", "A\n");
  write(f.lower(1) + "/dir/b", "B\n");
  write(f.lower(1) + "/opq/hidden", "H\n");
  write(f.lower(1) + "/bin/tool", "#!/bin/sh\n", 0755);
  sh("ln -s ../etc/passwd " + f.lower(1) + "/bin/link");
  write(f.lower(0) + "/etc/hosts", "::1 localhost\n");
  whiteout(f.lower(0) + "/gone");
  write(f.lower(0) + "/opq/.wh..wh..opq", "", 0);
  write(f.lower(0) + "/opq/visible", "V\n");
  write(f.lower(0) + "/dir/c", "C\n");
}

}  // namespace

TEST_CASE("imgfs merges layers with whiteouts and opaque directories", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f;
  populate(f);
  f.mount(true);
  CHECK(read(f.m("etc/hosts")) == "::1 localhost\n");
  CHECK(read(f.m("etc/passwd")) == "root:x:0:0\n");
  CHECK(lstat_errno(f.m("gone")) == ENOENT);
  CHECK(lstat_errno(f.m("opq/hidden")) == ENOENT);
  CHECK(read(f.m("opq/visible")) == "V\n");
  CHECK(lstat_errno(f.m(".wh.gone")) == ENOENT);
  CHECK(lstat_errno(f.m("opq/.wh..wh..opq")) == ENOENT);
  Tree shown = snapshot(f.mnt());
  CHECK(diff_trees(expected_union(f.lowers(), ""), shown) == "");
  CHECK(shown.count("dir/a") == 1);
  CHECK(shown.count("dir/c") == 1);
  // Read-only mount.
  CHECK(::mkdir(f.m("new").c_str(), 0755) == -1);
  CHECK(errno == EROFS);
}

TEST_CASE("imgfs reads overlay-style whiteouts and opaque xattrs in lowers", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f;
  populate(f);
  to_overlay_style(f.lower(0));
  f.mount();
  CHECK(lstat_errno(f.m("gone")) == ENOENT);
  CHECK(lstat_errno(f.m("opq/hidden")) == ENOENT);
  CHECK(read(f.m("opq/visible")) == "V\n");
  std::vector<char> buf(256);
  CHECK(::getxattr(f.m("opq").c_str(), "trusted.overlay.opaque", buf.data(), buf.size()) == -1);
  CHECK(errno == ENODATA);
  f.check_invariant();
}

TEST_CASE("imgfs hides marker names and refuses to create them", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f;
  populate(f);
  f.mount();
  CHECK(::open(f.m(".wh.x").c_str(), O_CREAT | O_WRONLY, 0644) == -1);
  CHECK(errno == EPERM);
  CHECK(::mkdir(f.m(".wh..wh..opq").c_str(), 0755) == -1);
  CHECK(errno == EPERM);
  std::string long_name(256, 'n');
  CHECK(lstat_errno(f.m(long_name)) == ENAMETOOLONG);
  CHECK(::mkdir(f.m(long_name).c_str(), 0755) == -1);
  CHECK(errno == ENAMETOOLONG);
  std::string max_name(255, 'm');
  CHECK(::mkdir(f.m(max_name).c_str(), 0755) == 0);
  CHECK(lstat_or_fail(f.m(max_name)).st_mode & S_IFDIR);
}

TEST_CASE("imgfs copies up every file type with its metadata", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/d/file", "data", 0640);
  REQUIRE(::chown((f.lower(0) + "/d/file").c_str(), 1000, 1001) == 0);
  REQUIRE(::chmod((f.lower(0) + "/d").c_str(), 0750) == 0);
  REQUIRE(::chown((f.lower(0) + "/d").c_str(), 7, 8) == 0);
  REQUIRE(::setxattr((f.lower(0) + "/d/file").c_str(), "user.k", "v", 1, 0) == 0);
  // security.capability: cap_net_raw+ep, v2 format.
  const unsigned char cap[20] = {0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  REQUIRE(::setxattr((f.lower(0) + "/d/file").c_str(), "security.capability", cap, sizeof(cap),
                     0) == 0);
  sh("ln -s target " + f.lower(0) + "/d/sym && mkfifo " + f.lower(0) + "/d/fifo && mknod " +
     f.lower(0) + "/d/null c 1 3 && mkdir " + f.lower(0) + "/d/sub");
  struct timespec old_times[2] = {{1000000000, 0}, {1000000000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (f.lower(0) + "/d/file").c_str(), old_times, 0) == 0);
  f.mount();
  ino_t ino_before = lstat_or_fail(f.m("d/file")).st_ino;
  // Each of these changes copies the entry (and its parent d) up.
  REQUIRE(::chmod(f.m("d/fifo").c_str(), 0600) == 0);
  REQUIRE(::chown(f.m("d/null").c_str(), 5, 5) == 0);
  REQUIRE(::lchown(f.m("d/sym").c_str(), 3, 3) == 0);
  REQUIRE(::chmod(f.m("d/sub").c_str(), 0700) == 0);
  REQUIRE(::setxattr(f.m("d/file").c_str(), "user.k2", "w", 1, 0) == 0);
  struct stat st = lstat_or_fail(f.upper() + "/d/file");
  CHECK(st.st_uid == 1000);
  CHECK(st.st_gid == 1001);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(st.st_mtim.tv_sec == 1000000000);
  CHECK(read(f.upper() + "/d/file") == "data");
  char value[64];
  CHECK(::getxattr((f.upper() + "/d/file").c_str(), "user.k", value, sizeof(value)) == 1);
  CHECK(::getxattr((f.upper() + "/d/file").c_str(), "security.capability", value, sizeof(value)) ==
        sizeof(cap));
  CHECK(::getxattr(f.m("d/file").c_str(), "user.k2", value, sizeof(value)) == 1);
  struct stat d = lstat_or_fail(f.upper() + "/d");
  CHECK((d.st_mode & 07777) == 0750);
  CHECK(d.st_uid == 7);
  struct stat null = lstat_or_fail(f.upper() + "/d/null");
  CHECK(S_ISCHR(null.st_mode));
  CHECK(null.st_rdev == makedev(1, 3));
  CHECK(null.st_uid == 5);
  CHECK(S_ISFIFO(lstat_or_fail(f.upper() + "/d/fifo").st_mode));
  CHECK(lstat_or_fail(f.upper() + "/d/sym").st_uid == 3);
  CHECK(lstat_or_fail(f.m("d/file")).st_ino == ino_before);  // stable across copy-up
  f.check_invariant();
}

TEST_CASE("imgfs writes: O_APPEND, O_TRUNC, truncate, fsync, mmap after copy-up",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/log", "one\n");
  write(f.lower(0) + "/big", std::string(100000, 'x'));
  write(f.lower(0) + "/t", "truncate me");
  f.mount();
  int fd = ::open(f.m("log").c_str(), O_WRONLY | O_APPEND);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "two\n", 4) == 4);
  REQUIRE(::fsync(fd) == 0);
  ::close(fd);
  CHECK(read(f.m("log")) == "one\ntwo\n");
  fd = ::open(f.m("big").c_str(), O_WRONLY | O_TRUNC);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "short", 5) == 5);
  ::close(fd);
  CHECK(read(f.m("big")) == "short");
  REQUIRE(::truncate(f.m("t").c_str(), 8) == 0);
  CHECK(read(f.m("t")) == "truncate");
  REQUIRE(::truncate(f.m("t").c_str(), 10) == 0);
  CHECK(read(f.m("t")) == std::string("truncate\0\0", 10));
  f.check_invariant();
}

TEST_CASE("imgfs create, mkdir, mknod, mkfifo, symlink, readlink, link as the caller",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/d/x", "x");
  f.mount();
  REQUIRE(::mkdir(f.m("d/new").c_str(), 0711) == 0);
  CHECK((lstat_or_fail(f.m("d/new")).st_mode & 07777) == 0711);
  REQUIRE(::mknod(f.m("d/dev").c_str(), S_IFCHR | 0600, makedev(1, 5)) == 0);
  CHECK(lstat_or_fail(f.m("d/dev")).st_rdev == makedev(1, 5));
  REQUIRE(::mkfifo(f.m("d/fifo").c_str(), 0644) == 0);
  CHECK(S_ISFIFO(lstat_or_fail(f.m("d/fifo")).st_mode));
  REQUIRE(::symlink("x", f.m("d/sl").c_str()) == 0);
  char buf[16] = {};
  CHECK(::readlink(f.m("d/sl").c_str(), buf, sizeof(buf)) == 1);
  CHECK(read(f.m("d/sl")) == "x");
  REQUIRE(::link(f.m("d/x").c_str(), f.m("d/x2").c_str()) == 0);
  CHECK(lstat_or_fail(f.m("d/x")).st_nlink == 2);
  CHECK(lstat_or_fail(f.m("d/x2")).st_ino == lstat_or_fail(f.m("d/x")).st_ino);
  CHECK(::mkdir(f.m("d/x").c_str(), 0755) == -1);
  CHECK(errno == EEXIST);
  // A non-root caller's file is owned by the caller.
  sh("setpriv --reuid=1234 --regid=1234 --clear-groups sh -c 'true' && chmod 777 " + f.m("d") +
     " && setpriv --reuid=1234 --regid=1234 --clear-groups touch " + f.m("d/mine"));
  CHECK(lstat_or_fail(f.m("d/mine")).st_uid == 1234);
  CHECK(lstat_or_fail(f.m("d/mine")).st_gid == 1234);
  f.check_invariant();
}

TEST_CASE("imgfs unlink and rmdir leave whiteouts; recreating a directory makes it opaque",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f;
  populate(f);
  f.mount();
  REQUIRE(::unlink(f.m("etc/passwd").c_str()) == 0);
  CHECK(lstat_errno(f.m("etc/passwd")) == ENOENT);
  CHECK(lstat_errno(f.upper() + "/etc/.wh.passwd") == 0);
  CHECK(::rmdir(f.m("dir").c_str()) == -1);
  CHECK(errno == ENOTEMPTY);
  sh("rm -rf " + f.m("dir"));
  CHECK(lstat_errno(f.m("dir")) == ENOENT);
  CHECK(lstat_errno(f.upper() + "/.wh.dir") == 0);
  REQUIRE(::mkdir(f.m("dir").c_str(), 0755) == 0);
  CHECK(snapshot(f.m("dir")).empty());
  CHECK(lstat_errno(f.upper() + "/dir/.wh..wh..opq") == 0);
  CHECK(lstat_errno(f.upper() + "/.wh.dir") == ENOENT);
  write(f.m("dir/again"), "again");
  // An upper-only file leaves no whiteout.
  write(f.m("fresh"), "f");
  REQUIRE(::unlink(f.m("fresh").c_str()) == 0);
  CHECK(lstat_errno(f.upper() + "/.wh.fresh") == ENOENT);
  CHECK(lstat_errno(f.upper() + "/fresh") == ENOENT);
  f.check_invariant();
}

TEST_CASE("imgfs writes overlay-style whiteouts when asked", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f;
  populate(f);
  f.mount(false, WhiteoutStyle::kOverlay);
  REQUIRE(::unlink(f.m("etc/passwd").c_str()) == 0);
  sh("rm -rf " + f.m("dir"));
  REQUIRE(::mkdir(f.m("dir").c_str(), 0755) == 0);
  struct stat wh = lstat_or_fail(f.upper() + "/etc/passwd");
  CHECK(S_ISCHR(wh.st_mode));
  CHECK(wh.st_rdev == makedev(0, 0));
  char v[4];
  CHECK(::getxattr((f.upper() + "/dir").c_str(), "trusted.overlay.opaque", v, sizeof(v)) == 1);
  CHECK(lstat_errno(f.m("etc/passwd")) == ENOENT);
  CHECK(snapshot(f.m("dir")).empty());
  f.check_invariant();
}

TEST_CASE("imgfs renames files and directories, lower ones included", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f;
  populate(f);
  f.mount();
  // Lower file over a lower file.
  REQUIRE(::rename(f.m("etc/hosts").c_str(), f.m("etc/passwd").c_str()) == 0);
  CHECK(read(f.m("etc/passwd")) == "::1 localhost\n");
  CHECK(lstat_errno(f.m("etc/hosts")) == ENOENT);
  // A merged lower directory (two layers) to a new name: copied up as a whole.
  REQUIRE(::rename(f.m("dir").c_str(), f.m("moved").c_str()) == 0);
  CHECK(read(f.m("moved/a")) == "A\n");
  CHECK(read(f.m("moved/c")) == "C\n");
  CHECK(lstat_errno(f.m("dir")) == ENOENT);
  // Deleting in the moved directory must not bring back anything from the old path.
  REQUIRE(::unlink(f.m("moved/a").c_str()) == 0);
  CHECK(lstat_errno(f.m("moved/a")) == ENOENT);
  // A directory over an empty lower directory.
  sh("rm -f " + f.m("opq/visible"));
  REQUIRE(::rename(f.m("moved").c_str(), f.m("opq").c_str()) == 0);
  CHECK(read(f.m("opq/b")) == "B\n");
  CHECK(lstat_errno(f.m("opq/visible")) == ENOENT);
  // Directory over a non-empty directory, and type mismatches.
  REQUIRE(::mkdir(f.m("e").c_str(), 0755) == 0);
  CHECK(::rename(f.m("e").c_str(), f.m("bin").c_str()) == -1);
  CHECK(errno == ENOTEMPTY);
  CHECK(::rename(f.m("e").c_str(), f.m("bin/tool").c_str()) == -1);
  CHECK(errno == ENOTDIR);
  CHECK(::rename(f.m("bin/tool").c_str(), f.m("e").c_str()) == -1);
  CHECK(errno == EISDIR);
  CHECK(::rename(f.m("opq").c_str(), f.m("opq/b/x").c_str()) == -1);
  // A symlink, and renaming over a whiteout.
  REQUIRE(::rename(f.m("bin/link").c_str(), f.m("gone").c_str()) == 0);
  char target[64] = {};
  CHECK(::readlink(f.m("gone").c_str(), target, sizeof(target)) == 13);
  CHECK(std::string(target) == "../etc/passwd");
  f.check_invariant();
  f.unmount();
  CHECK(lstat_errno(f.upper() + "/.wh.dir") == 0);
}

TEST_CASE("imgfs keeps lower hard links one file after copy-up", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/a/one", "same");
  REQUIRE(::link((f.lower(0) + "/a/one").c_str(), (f.lower(0) + "/a/two").c_str()) == 0);
  f.mount();
  struct stat one = lstat_or_fail(f.m("a/one"));
  struct stat two = lstat_or_fail(f.m("a/two"));
  CHECK(one.st_ino == two.st_ino);
  CHECK(one.st_nlink == 2);
  int fd = ::open(f.m("a/one").c_str(), O_WRONLY | O_APPEND);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "+", 1) == 1);
  ::close(fd);
  CHECK(read(f.m("a/two")) == "same+");
  CHECK(lstat_or_fail(f.m("a/two")).st_nlink == 2);
  f.check_invariant();
}

TEST_CASE("imgfs: an unlinked open file reports nlink 0", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/lower", "l");
  f.mount();
  write(f.m("upper"), "u");
  for (std::string name : {"lower", "upper"}) {
    INFO(name);
    int fd = ::open(f.m(name).c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::unlink(f.m(name).c_str()) == 0);
    struct stat st;
    REQUIRE(::fstat(fd, &st) == 0);
    CHECK(st.st_nlink == 0);
    char c = 0;
    CHECK(::pread(fd, &c, 1, 0) == 1);
    ::close(fd);
  }
  f.check_invariant();
}

TEST_CASE("imgfs xattrs, statfs, access", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/x", "x");
  REQUIRE(::setxattr((f.lower(0) + "/x").c_str(), "user.a", "1", 1, 0) == 0);
  f.mount();
  char list[256];
  ssize_t n = ::listxattr(f.m("x").c_str(), list, sizeof(list));
  CHECK(std::string(list, static_cast<size_t>(std::max<ssize_t>(n, 0))) ==
        std::string("user.a\0", 7));
  REQUIRE(::setxattr(f.m("x").c_str(), "user.b", "22", 2, 0) == 0);
  REQUIRE(::removexattr(f.m("x").c_str(), "user.a") == 0);
  char v[8];
  CHECK(::getxattr(f.m("x").c_str(), "user.a", v, sizeof(v)) == -1);
  CHECK(errno == ENODATA);
  CHECK(::getxattr(f.m("x").c_str(), "user.b", v, sizeof(v)) == 2);
  CHECK(::removexattr(f.m("x").c_str(), "user.none") == -1);
  CHECK(errno == ENODATA);
  struct statvfs sv;
  REQUIRE(::statvfs(f.mnt().c_str(), &sv) == 0);
  CHECK(sv.f_namemax == 255);
  CHECK(::access(f.m("x").c_str(), R_OK | W_OK) == 0);
  f.check_invariant();
}
