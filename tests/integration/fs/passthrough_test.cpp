// Kernel FUSE passthrough of upper files (fs/passthrough.h): on kernels that have it, reads and
// writes of upper files never reach the server; opens of one file mix cached and passthrough
// handles only in the ways the kernel allows, and every handle sees every write.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <string>

#include "base/unique_fd.h"
#include "fs_fixture.h"

using namespace imgbuild::fs::test;
using imgbuild::UniqueFd;

namespace {

// Linux 6.9 brought FUSE passthrough (CONFIG_FUSE_PASSTHROUGH, on in Debian's kernels).
bool kernel_has_passthrough() {
  utsname u;
  if (::uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 9);
}

std::string pread_all(int fd, size_t size) {
  std::string out(size, '\0');
  ssize_t n = ::pread(fd, out.data(), size, 0);
  REQUIRE(n >= 0);
  out.resize(static_cast<size_t>(n));
  return out;
}

void pwrite_all(int fd, const std::string& data, off_t off) {
  REQUIRE(::pwrite(fd, data.data(), data.size(), off) == static_cast<ssize_t>(data.size()));
}

}  // namespace

TEST_CASE("imgfs serves upper files through kernel passthrough", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/etc/conf", "lower\n");
  f.mount(false, imgbuild::fs::WhiteoutStyle::kOci, true);
  CHECK(read(f.m("etc/conf")) == "lower\n");  // the session has answered INIT now
  auto stats = f.mounted().stats();
  if (!kernel_has_passthrough()) {
    WARN("kernel without FUSE passthrough: checking the cached path only");
    CHECK_FALSE(stats.passthrough);
    return;
  }
  REQUIRE(stats.passthrough);
  uint64_t lower_reads = stats.reads;  // lower files are not passed through

  std::string big(4 << 20, 'x');
  write(f.m("new"), big);                     // created: a passthrough handle
  sh("echo appended >> " + f.m("etc/conf"));  // copied up, then passthrough
  CHECK(read(f.m("new")) == big);
  CHECK(read(f.m("etc/conf")) == "lower\nappended\n");
  stats = f.mounted().stats();
  CHECK(stats.writes == 0);
  CHECK(stats.reads == lower_reads);
  f.check_invariant();
}

TEST_CASE("imgfs without passthrough serves writes itself", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  f.mount(false, imgbuild::fs::WhiteoutStyle::kOci, false);
  write(f.m("new"), std::string(1 << 20, 'y'));
  CHECK_FALSE(f.mounted().stats().passthrough);
  CHECK(read(f.m("new")) == std::string(1 << 20, 'y'));
  CHECK(f.mounted().stats().writes > 0);
}

TEST_CASE("imgfs handles of one file see each other's writes across copy-up and io modes",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/file", "0123456789");
  f.mount();

  // A reader opened on the lower copy (cached) stays open while a writer copies the file up: the
  // writer must then be cached too, and the reader sees its writes.
  UniqueFd reader(::open(f.m("file").c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(reader);
  CHECK(pread_all(reader.get(), 64) == "0123456789");
  UniqueFd writer(::open(f.m("file").c_str(), O_RDWR | O_CLOEXEC));
  REQUIRE(writer);  // EIO here would mean mixed io modes on one inode
  pwrite_all(writer.get(), "AB", 0);
  CHECK(pread_all(reader.get(), 64) == "AB23456789");
  // A shared writable mapping of the file, read through the reader (mappings: in_child).
  in_child([&] {
    int fd = ::open(f.m("file").c_str(), O_RDWR | O_CLOEXEC);
    void* p = ::mmap(nullptr, 10, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return false;
    static_cast<char*>(p)[9] = 'Z';
    bool ok = ::msync(p, 10, MS_SYNC) == 0;
    ::munmap(p, 10);
    ::close(fd);
    return ok;
  });
  CHECK(pread_all(reader.get(), 64) == "AB2345678Z");
  reader.reset();
  writer.reset();

  // Opened again with no cached handle left: passthrough where the kernel has it. Two handles at
  // once (one read-only first, then a writer) share the backing file.
  UniqueFd r2(::open(f.m("file").c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(r2);
  CHECK(pread_all(r2.get(), 64) == "AB2345678Z");
  UniqueFd w2(::open(f.m("file").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  REQUIRE(w2);
  REQUIRE(::write(w2.get(), "!", 1) == 1);
  CHECK(pread_all(r2.get(), 64) == "AB2345678Z!");
  in_child([&] {
    void* q = ::mmap(nullptr, 11, PROT_READ, MAP_SHARED, r2.get(), 0);
    if (q == MAP_FAILED) return false;
    bool same = std::memcmp(q, "AB2345678Z!", 11) == 0;
    ::munmap(q, 11);
    return same;
  });
  r2.reset();
  w2.reset();
  CHECK(read(f.m("file")) == "AB2345678Z!");
  CHECK(read(f.upper() + "/file") == "AB2345678Z!");
  f.check_invariant();
}

TEST_CASE("a read-only imgfs mount passes lower files through", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(2);
  std::string data(3 << 20, 'l');
  write(f.lower(1) + "/usr/lib/big", data);
  write(f.lower(0) + "/etc/top", "top\n");
  f.mount(true, imgbuild::fs::WhiteoutStyle::kOci, true);
  CHECK(read(f.m("usr/lib/big")) == data);
  CHECK(read(f.m("etc/top")) == "top\n");
  auto stats = f.mounted().stats();
  if (!kernel_has_passthrough()) {
    CHECK_FALSE(stats.passthrough);
    return;
  }
  REQUIRE(stats.passthrough);
  CHECK(stats.reads == 0);
  in_child([&] {
    int fd = ::open(f.m("usr/lib/big").c_str(), O_RDONLY | O_CLOEXEC);
    void* p = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return false;
    bool same = static_cast<char*>(p)[4095] == 'l';
    ::munmap(p, 4096);
    ::close(fd);
    return same;
  });
}
