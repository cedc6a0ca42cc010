#include <catch2/catch.hpp>

#include "runtime/id_map.h"

using imgbuild::runtime::format_id_map;
using imgbuild::runtime::IdRange;
using imgbuild::runtime::parse_proc_id_map;
using imgbuild::runtime::parse_subids;
using imgbuild::runtime::plan_id_maps;

TEST_CASE("subordinate ids are found by name or uid, in file order", "[id_map]") {
  std::string text =
      "# comment\n"
      "alice:100000:65536\n"
      "\n"
      "bob:165536:65536\n"
      "1000:300000:1000\n"
      "  alice : 400000 : 10 \n";
  auto alice = parse_subids(text, "/etc/subuid", "alice", 1000);
  REQUIRE(alice);
  REQUIRE(alice->size() == 3);
  CHECK((*alice)[0] == IdRange{0, 100000, 65536});
  CHECK((*alice)[1] == IdRange{0, 300000, 1000});
  CHECK((*alice)[2] == IdRange{0, 400000, 10});
  auto nobody = parse_subids(text, "/etc/subuid", "carol", 1002);
  REQUIRE(nobody);
  CHECK(nobody->empty());
}

TEST_CASE("a malformed line of the user is an error naming file and line", "[id_map]") {
  auto bad = parse_subids("bob:1:2\nalice:100000\n", "/etc/subuid", "alice", 1000);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("/etc/subuid:2") != std::string::npos);
  CHECK_FALSE(parse_subids("alice:100000:0\n", "/etc/subuid", "alice", 1000));
  CHECK_FALSE(parse_subids("alice:x:10\n", "/etc/subuid", "alice", 1000));
  // Other users' lines are not this user's problem.
  CHECK(parse_subids("bob:junk\n", "/etc/subuid", "alice", 1000));
}

TEST_CASE("the plan maps 0 to the user and 1.. to the subordinate ranges", "[id_map]") {
  auto plan = plan_id_maps(1000, 1001, "alice", "alice:100000:65536\nalice:200000:10\n",
                           "alice:300000:65536\n");
  REQUIRE(plan);
  CHECK(plan->subordinate);
  CHECK(format_id_map(plan->uids) == "0:1000:1,1:100000:65536,65537:200000:10");
  CHECK(format_id_map(plan->gids) == "0:1001:1,1:300000:65536");
}

TEST_CASE("without subordinate ids the plan is the single-id map", "[id_map]") {
  auto plan = plan_id_maps(1000, 1001, "alice", "bob:1:2\n", "");
  REQUIRE(plan);
  CHECK_FALSE(plan->subordinate);
  CHECK(format_id_map(plan->uids) == "0:1000:1");
  CHECK(format_id_map(plan->gids) == "0:1001:1");
}

TEST_CASE("uids without gids (or the reverse) is an error naming the lacking file", "[id_map]") {
  auto plan = plan_id_maps(1000, 1000, "alice", "alice:100000:65536\n", "");
  REQUIRE_FALSE(plan);
  CHECK(plan.error().message().find("/etc/subgid has no range") != std::string::npos);
}

TEST_CASE("/proc id maps parse", "[id_map]") {
  auto map =
      parse_proc_id_map("         0       1000          1\n         1     100000      65536\n");
  REQUIRE(map);
  CHECK(format_id_map(*map) == "0:1000:1,1:100000:65536");
  CHECK_FALSE(parse_proc_id_map("0 1000\n"));
}
