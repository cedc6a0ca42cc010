// Data-integrity exerciser: random reads, writes, mmap writes and truncates on one file through
// the mount, checked against an in-memory model after every step; one file starts in a lower
// layer and is copied up mid-run while a read-only handle on its lower copy stays open.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <random>

#include "fs_fixture.h"

using namespace imgbuild::fs::test;

namespace {

void exercise(const std::string& path, std::string model, unsigned seed, int steps, int reader_fd) {
  std::mt19937 rng(seed);
  for (int i = 0; i < steps; ++i) {
    INFO("seed " << seed << " step " << i << " size " << model.size());
    int kind = static_cast<int>(rng() % 4);
    size_t off = model.empty() ? 0 : rng() % (model.size() + 4096);
    size_t len = 1 + rng() % 20000;
    if (kind == 0) {  // write
      std::string data(len, static_cast<char>('A' + rng() % 26));
      for (size_t j = 0; j < len; j += 97) data[j] = static_cast<char>(rng());
      int fd = ::open(path.c_str(), O_WRONLY);
      REQUIRE(fd >= 0);
      REQUIRE(::pwrite(fd, data.data(), len, static_cast<off_t>(off)) == static_cast<ssize_t>(len));
      ::close(fd);
      if (model.size() < off + len) model.resize(off + len, '\0');
      model.replace(off, len, data);
    } else if (kind == 1) {  // truncate
      size_t size = rng() % 200000;
      REQUIRE(::truncate(path.c_str(), static_cast<off_t>(size)) == 0);
      model.resize(size, '\0');
    } else if (kind == 2 && !model.empty()) {  // shared writable mmap (in a child: in_child)
      size_t at = rng() % model.size();
      size_t n = std::min(len, model.size() - at);
      size_t size = model.size();
      bool sync = rng() % 2;
      in_child([&] {
        int fd = ::open(path.c_str(), O_RDWR);
        if (fd < 0) return false;
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) return false;
        auto* bytes = static_cast<char*>(p);
        for (size_t j = 0; j < n; ++j) bytes[at + j] = static_cast<char>('a' + (j % 26));
        if (sync && ::msync(p, size, MS_SYNC) != 0) return false;
        ::munmap(p, size);
        ::close(fd);
        return true;
      });
      for (size_t j = 0; j < n; ++j) model[at + j] = static_cast<char>('a' + (j % 26));
    }
    // Read back (and through the old handle opened before copy-up).
    REQUIRE(read(path) == model);
    if (reader_fd >= 0 && !model.empty()) {
      std::string buf(model.size(), '\0');
      CHECK(::pread(reader_fd, buf.data(), buf.size(), 0) == static_cast<ssize_t>(model.size()));
      CHECK(buf == model);
    }
  }
}

}  // namespace

TEST_CASE("imgfs data integrity under random read/write/mmap/truncate", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  std::string initial(150000, '\0');
  std::mt19937 rng(42);
  for (char& c : initial) c = static_cast<char>(rng());
  write(f.lower(0) + "/lowerfile", initial);
  f.mount();
  // An upper file from scratch.
  write(f.m("upperfile"), "");
  exercise(f.m("upperfile"), "", 7, 150, -1);
  // A lower file, read through a handle opened before the copy-up.
  int reader = ::open(f.m("lowerfile").c_str(), O_RDONLY);
  REQUIRE(reader >= 0);
  std::string buf(initial.size(), '\0');
  REQUIRE(::pread(reader, buf.data(), buf.size(), 0) == static_cast<ssize_t>(buf.size()));
  REQUIRE(buf == initial);
  exercise(f.m("lowerfile"), initial, 9, 150, reader);
  ::close(reader);
  CHECK(read(f.lower(0) + "/lowerfile") == initial);  // the lower never changes
  f.check_invariant();
}
