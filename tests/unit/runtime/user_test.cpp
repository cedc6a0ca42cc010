#include <catch2/catch.hpp>

#include "runtime/user.h"

namespace imgbuild::runtime {

namespace {
const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# comment\n"
    "app:x:1000:1000:app user:/home/app:/bin/sh\n"
    "broken:x:notanumber:1\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const char* kGroup =
    "root:x:0:\n"
    "wheel:x:10:app,root\n"
    "app:x:1000:\n"
    "audio:x:29:other,app\n";
}  // namespace

TEST_CASE("user resolution follows runc's rules", "[unit]") {
  auto root = resolve_user_in("", kPasswd, kGroup);
  REQUIRE(root);
  CHECK(root->uid == 0);
  CHECK(root->gid == 0);
  CHECK(root->home == "/root");
  CHECK(root->additional_gids == std::vector<uint32_t>{0, 10});

  auto app = resolve_user_in("app", kPasswd, kGroup);
  REQUIRE(app);
  CHECK(app->uid == 1000);
  CHECK(app->gid == 1000);
  CHECK(app->home == "/home/app");
  CHECK(app->additional_gids == std::vector<uint32_t>{1000, 10, 29});

  auto by_uid = resolve_user_in("1000", kPasswd, kGroup);
  REQUIRE(by_uid);
  CHECK(by_uid->gid == 1000);

  auto unknown_uid = resolve_user_in("4242", kPasswd, kGroup);
  REQUIRE(unknown_uid);
  CHECK(unknown_uid->uid == 4242);
  CHECK(unknown_uid->gid == 0);
  CHECK(unknown_uid->home == "/");
  CHECK(unknown_uid->additional_gids == std::vector<uint32_t>{0});

  auto with_group = resolve_user_in("app:wheel", kPasswd, kGroup);
  REQUIRE(with_group);
  CHECK(with_group->gid == 10);
  CHECK(with_group->additional_gids == std::vector<uint32_t>{10});

  auto numeric = resolve_user_in("5:7", "", "");
  REQUIRE(numeric);
  CHECK(numeric->uid == 5);
  CHECK(numeric->gid == 7);
}

TEST_CASE("unknown user or group names are errors naming them", "[unit]") {
  auto u = resolve_user_in("ghost", kPasswd, kGroup);
  REQUIRE_FALSE(u);
  CHECK(u.error().kind() == ErrorKind::kNotFound);
  CHECK(u.error().message() == "unable to find user ghost: no matching entries in passwd file");
  auto g = resolve_user_in("app:ghosts", kPasswd, kGroup);
  REQUIRE_FALSE(g);
  CHECK(g.error().message() == "unable to find group ghosts: no matching entries in group file");
}

}  // namespace imgbuild::runtime

namespace imgbuild::runtime {

TEST_CASE("user ids above 2147483647 are refused, numeric or from passwd", "[unit]") {
  const std::string kMsg = ": uids and gids must be in range 0-2147483647";
  for (const char* user : {"4294967295", "2147483648", "99999999999999999999999", "0:4294967295",
                           "evil", "app:evilgroup"}) {
    auto r = resolve_user_in(user, "evil:x:4294967295:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n",
                             "evilgroup:x:3000000000:\n");
    INFO(user);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "user " + std::string(user) + kMsg);
  }
  auto max = resolve_user_in("2147483647:2147483647", "", "");
  REQUIRE(max);
  CHECK(max->uid == 2147483647);
  CHECK(max->gid == 2147483647);
}

}  // namespace imgbuild::runtime
