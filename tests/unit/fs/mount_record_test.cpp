#include "fs/mount_record.h"

#include <catch2/catch.hpp>

#include "base/fs.h"

namespace imgbuild::fs {
namespace {

TEST_CASE("list_mount_records reports an unreadable record, and prune refuses to run", "[unit]") {
  TempDir dir = *TempDir::create("/tmp", "mount-record-");
  image::Store store = *image::Store::open(join(dir.path(), "root"));
  MountRecord good;
  good.mountpoint = "/mnt/good";
  good.image = "busybox";
  good.manifest = *image::Digest::parse("sha256:" + std::string(64, 'e'));
  REQUIRE(write_mount_record(store, good));
  std::string bad = mount_record_path(store, "/mnt/bad");
  REQUIRE(write_file_atomic(bad, "{\"manifests\": ["));

  auto list = list_mount_records(store);
  REQUIRE(list);
  REQUIRE(list->records.size() == 1);
  CHECK(list->records[0].mountpoint == "/mnt/good");
  REQUIRE(list->unreadable.size() == 1);
  CHECK(list->unreadable[0].path == bad);
  CHECK(list->unreadable[0].error.message().starts_with("mount record " + bad + ": "));
  auto read = read_mount_record(store, "/mnt/bad");
  REQUIRE_FALSE(read);
  CHECK(read.error().kind() == ErrorKind::kCorrupt);

  // The record might protect an image that is mounted: GC fails closed, deleting nothing.
  auto pruned = store.prune();
  REQUIRE_FALSE(pruned);
  CHECK(pruned.error().message().find(bad) != std::string::npos);
}

}  // namespace
}  // namespace imgbuild::fs
