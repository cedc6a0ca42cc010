#include "fs/mount_lifecycle.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"

namespace imgbuild::fs {
namespace {

struct Fixture {
  TempDir dir = *TempDir::create("/tmp", "mount-lifecycle-");
  image::Store store = *image::Store::open(join(dir.path(), "root"));

  MountRecord record(const std::string& mountpoint, pid_t pid) {
    MountRecord r;
    r.mountpoint = mountpoint;
    r.image = "busybox";
    r.manifest = *image::Digest::parse("sha256:" + std::string(64, 'e'));
    r.pid = pid;
    return r;
  }
};

TEST_CASE("list_active_mounts drops a gone mount's record and its owned upper", "[unit]") {
  Fixture f;
  std::string gone_point = join(f.dir.path(), "gone");
  MountRecord gone = f.record(gone_point, 0);
  REQUIRE(prepare_upper(f.store, gone, ""));
  CHECK(gone.owned_upper);
  CHECK(gone.upper == owned_upper_path(f.store, gone_point));
  CHECK(is_dir(gone.upper));
  REQUIRE(write_mount_record(f.store, gone));
  // Its server is alive (this process): kept, even with nothing mounted.
  MountRecord served = f.record(join(f.dir.path(), "served"), ::getpid());
  REQUIRE(write_mount_record(f.store, served));
  REQUIRE(write_file_atomic(mount_record_path(f.store, "/mnt/bad"), "{"));

  auto list = list_active_mounts(f.store);
  REQUIRE(list);
  REQUIRE(list->records.size() == 1);
  CHECK(list->records[0].mountpoint == served.mountpoint);
  CHECK(list->unreadable.size() == 1);
  CHECK_FALSE(exists(mount_record_path(f.store, gone_point)));
  CHECK_FALSE(exists(gone.upper));
}

TEST_CASE("check_mount_target refuses a file and a recorded mount point", "[unit]") {
  Fixture f;
  std::string file = join(f.dir.path(), "file");
  REQUIRE(write_file_atomic(file, "x"));
  auto not_dir = check_mount_target(f.store, file);
  REQUIRE_FALSE(not_dir);
  CHECK(not_dir.error().message() == "mount: mount point " + file + " is not a directory");
  std::string point = join(f.dir.path(), "mnt");
  REQUIRE(make_dirs(point));
  CHECK(check_mount_target(f.store, point));
  REQUIRE(write_mount_record(f.store, f.record(point, 0)));
  auto recorded = check_mount_target(f.store, point);
  REQUIRE_FALSE(recorded);
  CHECK(recorded.error().message() ==
        "mount: " + point + " is recorded as mounted; run imgbuild umount first");
}

TEST_CASE("unmount_recorded removes a record whose mount is gone, or says nothing is there",
          "[unit]") {
  Fixture f;
  std::string point = join(f.dir.path(), "mnt");
  REQUIRE(make_dirs(point));
  auto nothing = unmount_recorded(f.store, point);
  REQUIRE_FALSE(nothing);
  CHECK(nothing.error().kind() == ErrorKind::kNotFound);
  CHECK(nothing.error().message() == "umount: nothing is mounted at " + point);

  MountRecord r = f.record(point, 0);
  REQUIRE(prepare_upper(f.store, r, join(f.dir.path(), "my-upper")));
  CHECK_FALSE(r.owned_upper);
  REQUIRE(write_mount_record(f.store, r));
  auto done = unmount_recorded(f.store, point);
  REQUIRE(done);
  CHECK_FALSE(done->removed_unreadable);
  CHECK_FALSE(exists(mount_record_path(f.store, point)));
  CHECK(is_dir(join(f.dir.path(), "my-upper")));  // the user's upper stays

  REQUIRE(write_file_atomic(mount_record_path(f.store, point), "{"));
  auto unreadable = unmount_recorded(f.store, point);
  REQUIRE(unreadable);
  REQUIRE(unreadable->removed_unreadable);
  CHECK(unreadable->removed_unreadable->kind() == ErrorKind::kCorrupt);
  CHECK_FALSE(exists(mount_record_path(f.store, point)));
}

}  // namespace
}  // namespace imgbuild::fs
