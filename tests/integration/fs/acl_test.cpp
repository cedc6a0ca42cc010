// POSIX ACLs: the kernel caches them (their absence included) and checks permissions with them,
// as for kernel overlayfs (FUSE_POSIX_ACL), so `ls -l` does not ask the server once per file.
#include <fcntl.h>
#include <grp.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "fs_fixture.h"

using namespace imgbuild::fs::test;
using imgbuild::UniqueFd;

namespace {

constexpr const char* kAccessAcl = "system.posix_acl_access";

// The kernel's xattr form of an access ACL (version 2; tag, permissions, id per entry) that gives
// user uid read access to a file with mode 0640.
std::string acl_granting_read(uint32_t uid) {
  struct Entry {
    uint16_t tag;
    uint16_t perm;
    uint32_t id;
  };
  constexpr uint32_t kNoId = 0xffffffff;
  const Entry entries[] = {
      {0x01, 6, kNoId},  // ACL_USER_OBJ rw-
      {0x02, 4, uid},    // ACL_USER uid r--
      {0x04, 4, kNoId},  // ACL_GROUP_OBJ r--
      {0x10, 4, kNoId},  // ACL_MASK r--
      {0x20, 0, kNoId},  // ACL_OTHER ---
  };
  std::string out(4, '\0');
  uint32_t version = 2;
  std::memcpy(out.data(), &version, 4);
  for (const Entry& e : entries) out.append(reinterpret_cast<const char*>(&e), sizeof(e));
  return out;
}

constexpr uid_t kNobody = 65534;

// In a child running as nobody: can it read path1, and is path2 refused with EACCES?
bool nobody_reads(const char* readable, const char* refused) {
  if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
    return false;
  }
  int fd = ::open(readable, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  if (!refused) return true;
  return ::open(refused, O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES;
}

}  // namespace

TEST_CASE("imgfs lets the kernel check permissions with POSIX ACLs", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  write(f.lower(0) + "/acl/granted", "granted\n", 0640);
  write(f.lower(0) + "/acl/plain", "plain\n", 0640);
  std::string acl = acl_granting_read(kNobody);
  if (::setxattr((f.lower(0) + "/acl/granted").c_str(), kAccessAcl, acl.data(), acl.size(), 0) !=
      0) {
    WARN("SKIPPED: the test directory's filesystem has no POSIX ACLs: " << std::strerror(errno));
    return;
  }
  f.mount();
  std::string granted = f.m("acl/granted");
  std::string plain = f.m("acl/plain");
  in_child([&] { return nobody_reads(granted.c_str(), plain.c_str()); });

  // An ACL set through the mount (a copy-up) takes effect at once: the kernel drops what it
  // cached for the file.
  REQUIRE(::setxattr(plain.c_str(), kAccessAcl, acl.data(), acl.size(), 0) == 0);
  in_child([&] { return nobody_reads(plain.c_str(), nullptr); });
  char buf[256];
  ssize_t n = ::getxattr((f.upper() + "/acl/plain").c_str(), kAccessAcl, buf, sizeof(buf));
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<size_t>(n)) == acl);
  f.check_invariant();
}

TEST_CASE("imgfs: the kernel caches that files have no ACL", "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  std::vector<std::string> files;
  for (int i = 0; i < 100; ++i) {
    write(f.lower(0) + "/many/f" + std::to_string(i), "");
    files.push_back(f.m("many/f" + std::to_string(i)));
  }
  f.mount();
  char buf[64];
  auto read_acls = [&] {
    for (const std::string& path : files) {
      INFO(path);
      CHECK(::lgetxattr(path.c_str(), kAccessAcl, buf, sizeof(buf)) == -1);
      CHECK(errno == ENODATA);
    }
  };
  read_acls();  // what `ls -l` does for each file
  uint64_t asked = f.mounted().stats().getxattrs;
  CHECK(asked <= files.size());
  read_acls();
  CHECK(f.mounted().stats().getxattrs == asked);
}
