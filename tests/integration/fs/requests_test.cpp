// What creating files costs in FUSE requests (MountStats::requests, fs/request_counts.h): each
// request is a round trip through the kernel, so these are the figures the FUSE fast paths keep
// down (docs/imgfs.md, "Requests per created file").
#include <unistd.h>

#include <catch2/catch.hpp>
#include <numeric>
#include <string>

#include "fs/request_counts.h"
#include "fs_fixture.h"

using namespace imgbuild::fs::test;

namespace {

uint64_t count(const std::map<std::string, uint64_t>& requests, const std::string& op) {
  auto it = requests.find(op);
  return it == requests.end() ? 0 : it->second;
}

uint64_t total(const std::map<std::string, uint64_t>& requests) {
  return std::accumulate(requests.begin(), requests.end(), uint64_t{0},
                         [](uint64_t n, const auto& kv) { return n + kv.second; });
}

}  // namespace

TEST_CASE("imgfs counts the requests it serves by opcode", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/d/keep", "lower\n");
  f.mount();
  CHECK(read(f.m("d/keep")) == "lower\n");
  auto before = f.mounted().stats().requests;
  CHECK(count(before, "LOOKUP") >= 2);  // d, d/keep
  CHECK(count(before, "OPEN") == 1);
  constexpr int kFiles = 50;
  for (int i = 0; i < kFiles; ++i) write(f.m("d/f" + std::to_string(i)), "x\n");
  // RELEASE is sent asynchronously, after close() returned.
  auto after = f.mounted().stats().requests;
  for (int i = 0; i < 200 && count(after, "RELEASE") - count(before, "RELEASE") < kFiles; ++i) {
    ::usleep(50'000);
    after = f.mounted().stats().requests;
  }
  INFO(imgbuild::fs::format_request_counts(after));
  CHECK(count(after, "CREATE") - count(before, "CREATE") == kFiles);
  CHECK(count(after, "RELEASE") - count(before, "RELEASE") == kFiles);
  // LOOKUP (the name is new), CREATE, GETXATTR security.capability (first write), GETATTR (the
  // directory, whose attributes the create invalidated), RELEASE; with the writeback cache also
  // WRITE, FLUSH and SETATTR (the kernel writes back the mtime it kept).
  bool passthrough = f.mounted().stats().passthrough;
  if (passthrough) CHECK(count(after, "FLUSH") == 0);  // handles are opened noflush
  uint64_t per_file = (total(after) - total(before)) / kFiles;
  CHECK(per_file <= (passthrough ? 5 : 8));
  f.unmount();
}
