#include "containers/volumes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "tests/support/skip.h"

namespace imgbuild::containers {

TEST_CASE("check_volume_name: Docker's local volume names", "[unit]") {
  CHECK(check_volume_name("data"));
  CHECK(check_volume_name("my_vol.1-a"));
  CHECK_FALSE(check_volume_name("a"));
  CHECK_FALSE(check_volume_name("_data"));
  auto bad = check_volume_name("./rel");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() ==
        "create ./rel: \"./rel\" includes invalid characters for a local volume name, only "
        "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, "
        "use absolute path");
}

TEST_CASE("volumes: create is idempotent, list, load, remove", "[unit]") {
  auto tmp = *fs::TempDir::create("/tmp", "volumes-");
  auto store = *image::Store::open(tmp.path() + "/store");
  auto a = create_volume(store, "data", VolumeKind::kNamed, {{"tier", "db"}});
  REQUIRE(a);
  CHECK(a->mountpoint == tmp.path() + "/store/volumes/data/_data");
  CHECK(fs::is_dir(a->mountpoint));
  CHECK(a->labels == std::map<std::string, std::string>{{"tier", "db"}});
  REQUIRE(fs::write_file_atomic(a->mountpoint + "/kept", "x"));
  auto again = create_volume(store, "data", VolumeKind::kNamed);
  REQUIRE(again);
  CHECK(fs::exists(again->mountpoint + "/kept"));
  CHECK(again->labels == a->labels);

  auto anon = create_volume(store, "", VolumeKind::kAnonymous);
  REQUIRE(anon);
  CHECK(anon->name.size() == 64);
  CHECK(anon->kind == VolumeKind::kAnonymous);

  auto all = list_volumes(store);
  REQUIRE(all);
  REQUIRE(all->size() == 2);

  REQUIRE(remove_volume(store, "data"));
  CHECK_FALSE(fs::exists(tmp.path() + "/store/volumes/data"));
  auto gone = load_volume(store, "data");
  REQUIRE_FALSE(gone);
  CHECK(gone.error().kind() == ErrorKind::kNotFound);
  CHECK(gone.error().message() == "get data: no such volume");
  CHECK(remove_volume(store, "data").error().kind() == ErrorKind::kNotFound);
}

TEST_CASE("populate_volume copies a root's directory into an empty volume only", "[unit]") {
  if (::geteuid() != 0) {
    ::imgbuild::testing::skip("populate_volume needs root (chroot)");
    return;
  }
  auto tmp = *fs::TempDir::create("/tmp", "volumes-");
  auto store = *image::Store::open(tmp.path() + "/store");
  std::string root = tmp.path() + "/root";
  REQUIRE(fs::make_dirs(root + "/srv/data/sub"));
  REQUIRE(fs::write_file_atomic(root + "/srv/data/sub/file", "content"));
  REQUIRE(::chown((root + "/srv/data/sub/file").c_str(), 1234, 1234) == 0);
  // A hostile symlink inside the root stays inside it.
  REQUIRE(::symlink("/etc", (root + "/srv/escape").c_str()) == 0);

  auto v = *create_volume(store, "data", VolumeKind::kNamed);
  auto copied = populate_volume(store, v, root, "/srv/data");
  REQUIRE(copied);
  CHECK(*copied);
  CHECK(*fs::read_file(v.mountpoint + "/sub/file") == "content");
  struct stat st {};
  REQUIRE(::stat((v.mountpoint + "/sub/file").c_str(), &st) == 0);
  CHECK(st.st_uid == 1234);

  REQUIRE(fs::write_file_atomic(root + "/srv/data/later", "x"));
  auto second = populate_volume(store, v, root, "/srv/data");
  REQUIRE(second);
  CHECK_FALSE(*second);
  CHECK_FALSE(fs::exists(v.mountpoint + "/later"));

  auto other = *create_volume(store, "other", VolumeKind::kNamed);
  auto missing = populate_volume(store, other, root, "/nowhere");
  REQUIRE(missing);
  CHECK_FALSE(*missing);
  auto escape = populate_volume(store, other, root, "/srv/escape/.");
  REQUIRE(escape);
  CHECK_FALSE(fs::exists(other.mountpoint + "/passwd"));
}

}  // namespace imgbuild::containers
