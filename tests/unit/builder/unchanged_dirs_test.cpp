#include "builder/unchanged_dirs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"

using namespace imgbuild;

namespace {

std::string mkdir_p(const std::string& root, const std::string& rel) {
  std::string path = fs::join(root, rel);
  REQUIRE(fs::make_dirs(path));
  return path;
}

void touch(const std::string& path) {
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  ::close(fd);
}

// Gives to's directory from's mode, owner and times: what imgfs's copy-up leaves.
void copy_meta(const std::string& from, const std::string& to) {
  struct stat st {};
  REQUIRE(::stat(from.c_str(), &st) == 0);
  REQUIRE(::chmod(to.c_str(), st.st_mode & 07777) == 0);
  REQUIRE(::chown(to.c_str(), st.st_uid, st.st_gid) == 0);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, to.c_str(), times, 0) == 0);
}

// A lower "base" with etc/ and usr/share/doc/, an empty upper.
struct Layers {
  fs::TempDir tmp = fs::TempDir::create().value();
  std::string base = mkdir_p(tmp.path(), "base");
  std::string upper = mkdir_p(tmp.path(), "upper");
  Layers() {
    mkdir_p(base, "etc");
    touch(fs::join(base, "etc/passwd"));
    mkdir_p(base, "usr/share/doc");
    REQUIRE(::chmod(fs::join(base, "etc").c_str(), 0750) == 0);
  }
  // Copies rel's directory (and its parents) into the upper as a copy-up does.
  void copy_up(const std::string& rel, const std::string& lower) {
    mkdir_p(upper, rel);
    std::string at = rel;
    while (true) {
      copy_meta(fs::join(lower, at), fs::join(upper, at));
      size_t slash = at.rfind('/');
      if (slash == std::string::npos) break;
      at.resize(slash);
    }
  }
  bool in_upper(const std::string& rel) const { return fs::exists(fs::join(upper, rel)); }
};

}  // namespace

TEST_CASE("drop_unchanged_dirs removes directories that were only copied up", "[builder]") {
  Layers l;
  l.copy_up("etc", l.base);
  l.copy_up("usr/share/doc", l.base);
  CHECK(builder::drop_unchanged_dirs(l.upper, {l.base}).value() == 4);
  CHECK_FALSE(l.in_upper("etc"));
  CHECK_FALSE(l.in_upper("usr"));
}

TEST_CASE("drop_unchanged_dirs keeps real changes", "[builder]") {
  Layers l;
  l.copy_up("etc", l.base);
  l.copy_up("usr/share/doc", l.base);
  SECTION("a new file keeps its directories") {
    touch(fs::join(l.upper, "usr/share/doc/new"));
    CHECK(builder::drop_unchanged_dirs(l.upper, {l.base}).value() == 1);  // etc only
    CHECK(l.in_upper("usr/share/doc/new"));
    CHECK_FALSE(l.in_upper("etc"));
  }
  SECTION("a whiteout is a change") {
    touch(fs::join(l.upper, "etc/.wh.passwd"));
    CHECK(builder::drop_unchanged_dirs(l.upper, {l.base}).value() == 3);
    CHECK(l.in_upper("etc/.wh.passwd"));
  }
  SECTION("mode, times and xattrs are changes") {
    REQUIRE(::chmod(fs::join(l.upper, "etc").c_str(), 0755) == 0);
    struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};
    REQUIRE(::utimensat(AT_FDCWD, fs::join(l.upper, "usr/share").c_str(), times, 0) == 0);
    CHECK(builder::drop_unchanged_dirs(l.upper, {l.base}).value() == 1);  // usr/share/doc
    CHECK(l.in_upper("etc"));
    CHECK(l.in_upper("usr/share"));
    CHECK_FALSE(l.in_upper("usr/share/doc"));
  }
  SECTION("an xattr only in the upper is a change") {
    std::string doc = fs::join(l.upper, "usr/share/doc");
    REQUIRE(::setxattr(doc.c_str(), "user.test", "1", 1, 0) == 0);
    CHECK(builder::drop_unchanged_dirs(l.upper, {l.base}).value() == 1);  // etc
    CHECK(l.in_upper("usr/share/doc"));
  }
  SECTION("a directory no lower has is new") {
    mkdir_p(l.upper, "srv");
    builder::drop_unchanged_dirs(l.upper, {l.base}).value();
    CHECK(l.in_upper("srv"));
  }
}

TEST_CASE("drop_unchanged_dirs compares with what the lowers show", "[builder]") {
  Layers l;
  std::string top = mkdir_p(l.tmp.path(), "top");
  l.copy_up("usr/share/doc", l.base);
  SECTION("a layer above that has the directory decides") {
    mkdir_p(top, "usr/share/doc");
    REQUIRE(::chmod(fs::join(top, "usr/share/doc").c_str(), 0700) == 0);
    builder::drop_unchanged_dirs(l.upper, {top, l.base}).value();
    CHECK(l.in_upper("usr/share/doc"));  // same as base's, not as top's
  }
  SECTION("a whiteout above hides the lower directory") {
    mkdir_p(top, "usr");
    touch(fs::join(top, "usr/.wh.share"));
    builder::drop_unchanged_dirs(l.upper, {top, l.base}).value();
    CHECK(l.in_upper("usr/share/doc"));
  }
  SECTION("an opaque directory above hides the lower directory") {
    mkdir_p(top, "usr/share");
    touch(fs::join(top, "usr/share/.wh..wh..opq"));
    builder::drop_unchanged_dirs(l.upper, {top, l.base}).value();
    CHECK(l.in_upper("usr/share/doc"));
  }
  SECTION("a file above hides the lower directory") {
    touch(fs::join(top, "usr"));
    builder::drop_unchanged_dirs(l.upper, {top, l.base}).value();
    CHECK(l.in_upper("usr/share/doc"));
  }
  SECTION("a layer above without the path passes through") {
    mkdir_p(top, "usr");
    struct stat st {};
    REQUIRE(::stat(fs::join(l.base, "usr").c_str(), &st) == 0);
    copy_meta(fs::join(l.base, "usr"), fs::join(top, "usr"));
    CHECK(builder::drop_unchanged_dirs(l.upper, {top, l.base}).value() == 3);
    CHECK_FALSE(l.in_upper("usr"));
  }
}
