#include "runtime/passwd_file.h"

#include <catch2/catch.hpp>

#include "runtime/user.h"

namespace imgbuild::runtime {

TEST_CASE("parse_passwd keeps well-formed entries in file order", "[unit]") {
  auto entries = parse_passwd(
      "root:x:0:0:root:/root:/bin/sh\n"
      "\n"
      "# app:x:7:7:commented out:/nowhere:/bin/sh\n"
      "#app:x:8:8::/nowhere:/bin/sh\n"
      "short:x:5:5\n"
      "badid:x:notanumber:1:::\n"
      "huge:x:4294967296:1:::\n"
      "app:x:1000:1001:app user:/home/app:/bin/sh\n"
      "application:x:1002:1002:::\n"
      "app:x:2000:2000:second app:/second:/bin/sh");  // no final newline
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].name == "root");
  CHECK(entries[0].home == "/root");
  CHECK(entries[1].name == "app");
  CHECK(entries[1].uid == 1000);
  CHECK(entries[1].gid == 1001);
  CHECK(entries[1].home == "/home/app");
  CHECK(entries[2].name == "application");
  CHECK(entries[2].home == "");
  CHECK(entries[3].uid == 2000);
  CHECK(parse_passwd("").empty());
  CHECK(parse_passwd("\n\n#only:x:1:1:::\n").empty());
}

TEST_CASE("parse_group reads members and skips malformed lines", "[unit]") {
  auto groups = parse_group(
      "root:x:0:\n"
      "# wheel:x:10:app\n"
      "staff:x:50\n"
      "nogid:x:\n"
      "bad:x:1x:app\n"
      "two\n"
      "wheel:x:10:app,root\n"
      "apps:x:11:application\n");
  REQUIRE(groups.size() == 4);
  CHECK(groups[0].name == "root");
  CHECK(groups[0].members.empty());
  CHECK(groups[1].name == "staff");  // three fields: no member list, still a group
  CHECK(groups[1].gid == 50);
  CHECK(groups[2].members == std::vector<std::string>{"app", "root"});
  CHECK(groups[3].members == std::vector<std::string>{"application"});
}

TEST_CASE("USER skips comment lines and does not match a name by prefix", "[unit]") {
  const char* passwd =
      "#app:x:7:7::/x:/bin/sh\n"
      "application:x:1002:1002::/a:/bin/sh\n"
      "app:x:1000:1000::/home/app:/bin/sh\n";
  const char* group = "apps:x:11:application\nwheel:x:10:app\n";
  auto app = resolve_user_in("app", passwd, group);
  REQUIRE(app);
  CHECK(app->uid == 1000);
  CHECK(app->additional_gids == std::vector<uint32_t>{1000, 10});
  auto commented = resolve_user_in("#app", passwd, group);
  REQUIRE_FALSE(commented);
  CHECK(commented.error().message() ==
        "unable to find user #app: no matching entries in passwd file");
  CHECK(resolve_user_in("app:apps", passwd, group)->gid == 11);
  CHECK_FALSE(resolve_user_in("app:app", passwd, group));
}

}  // namespace imgbuild::runtime
