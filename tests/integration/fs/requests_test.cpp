// What creating and writing files costs in FUSE requests (MountStats::requests,
// fs/request_counts.h): each request is a round trip through the kernel, so these are the figures
// the FUSE fast paths keep down (docs/imgfs.md, "Requests per created file"); and the contract of
// one of them, FUSE_HANDLE_KILLPRIV_V2 (fs/killpriv.h), with its fallback (nokillpriv).
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "fs/request_counts.h"
#include "fs_fixture.h"

using namespace imgbuild::fs::test;

namespace {

// The counts once every handle opened so far was released: RELEASE is sent asynchronously, after
// close() returned.
std::map<std::string, uint64_t> settled(Fixture& f) {
  auto requests = f.mounted().stats().requests;
  for (int i = 0; i < 200; ++i) {
    if (request_count(requests, "RELEASE") >=
        request_count(requests, "OPEN") + request_count(requests, "CREATE"))
      break;
    ::usleep(50'000);
    requests = f.mounted().stats().requests;
  }
  return requests;
}

}  // namespace

TEST_CASE("imgfs counts the requests it serves by opcode", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/d/keep", "lower\n");
  f.mount();
  CHECK(read(f.m("d/keep")) == "lower\n");
  auto before = settled(f);
  CHECK(request_count(before, "LOOKUP") >= 2);  // d, d/keep
  CHECK(request_count(before, "OPEN") == 1);
  constexpr int kFiles = 50;
  for (int i = 0; i < kFiles; ++i) write(f.m("d/f" + std::to_string(i)), "x\n");
  auto after = settled(f);
  INFO(imgbuild::fs::format_request_counts(after));
  CHECK(request_count(after, "CREATE") - request_count(before, "CREATE") == kFiles);
  CHECK(request_count(after, "RELEASE") - request_count(before, "RELEASE") == kFiles);
  // LOOKUP (the name is new), CREATE, GETXATTR security.capability (first write), GETATTR (the
  // directory, whose attributes the create invalidated), RELEASE; with the writeback cache also
  // WRITE, FLUSH and SETATTR (the kernel writes back the mtime it kept).
  bool passthrough = f.mounted().stats().passthrough;
  if (passthrough) CHECK(request_count(after, "FLUSH") == 0);  // handles are opened noflush
  uint64_t per_file = (request_total(after) - request_total(before)) / kFiles;
  CHECK(per_file <= (passthrough ? 5 : 8));
  f.unmount();
}

namespace {

// Writes data to path n times through one descriptor, as uid/gid (in a child: this process
// serves the mount). truncate: truncate the file to 0 first, through the path.
void write_as(uid_t uid, const std::string& path, int n, bool truncate = false) {
  const char* p = path.c_str();
  in_child([=] {
    if (::setgroups(0, nullptr) < 0 || ::setresgid(uid, uid, uid) < 0 ||
        ::setresuid(uid, uid, uid) < 0) {
      return false;
    }
    if (truncate && ::truncate(p, 0) < 0) return false;
    int fd = ::open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return false;
    for (int i = 0; i < n; ++i) {
      if (::write(fd, "x", 1) != 1) return false;
    }
    return ::close(fd) == 0;
  });
}

mode_t mode_of(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// The checks shared by both ways of clearing setuid/setgid: with FUSE_HANDLE_KILLPRIV_V2 (imgfs
// clears them, fs/killpriv.h) and without (the kernel sends SETATTR).
void check_suid_sgid_cleared(Fixture& f) {
  write(f.m("w"), "data\n", 0666);
  sh("chmod 06777 " + f.m("w"));
  write_as(0, f.m("w"), 3);  // root (CAP_FSETID) keeps them
  CHECK(mode_of(f.m("w")) == 06777);
  write_as(65534, f.m("w"), 3);
  CHECK(mode_of(f.m("w")) == 0777);
  CHECK(mode_of(f.upper() + "/w") == 0777);
  sh("chmod 06767 " + f.m("w"));  // setgid without group execute stays
  write_as(65534, f.m("w"), 1);
  CHECK(mode_of(f.m("w")) == 02767);
  sh("chmod 06777 " + f.m("w"));
  write_as(65534, f.m("w"), 0, true);  // truncate
  CHECK(mode_of(f.m("w")) == 0777);
  sh("chmod 06777 " + f.m("w") + " && chown 65534 " + f.m("w"));  // chown, even by root
  CHECK(mode_of(f.m("w")) == 0777);
  CHECK(read(f.m("w")) == "");
}

}  // namespace

TEST_CASE("imgfs clears setuid and setgid itself with FUSE_HANDLE_KILLPRIV_V2",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  sh("chmod 0755 " + f.root());
  f.mount();
  write(f.m("big"), "");
  check_suid_sgid_cleared(f);
  if (!f.mounted().stats().killpriv) {
    WARN("kernel without FUSE_HANDLE_KILLPRIV_V2: checked the kernel's clearing only");
    return;
  }
  // The kernel asks for security.capability before the first write to an inode only.
  uint64_t before = f.mounted().stats().getxattrs;
  write_as(0, f.m("big"), 200);
  CHECK(f.mounted().stats().getxattrs - before <= 2);
  f.check_invariant();
}

TEST_CASE("imgfs with nokillpriv leaves clearing setuid and setgid to the kernel",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  sh("chmod 0755 " + f.root());
  f.adjust_options = [](imgbuild::fs::MountOptions& o) { o.handle_killpriv = false; };
  f.mount();
  write(f.m("big"), "");
  check_suid_sgid_cleared(f);
  CHECK_FALSE(f.mounted().stats().killpriv);
  uint64_t before = f.mounted().stats().getxattrs;
  write_as(0, f.m("big"), 200);
  CHECK(f.mounted().stats().getxattrs - before >= 200);  // one per write(2)
}
