#include "runtime/rlimits.h"

#include <catch2/catch.hpp>

#include "runtime/etc_files.h"

namespace imgbuild::runtime {
namespace {

std::string error_of(std::string_view spec) {
  auto u = parse_ulimit(spec);
  REQUIRE_FALSE(u);
  return u.error().message();
}

}  // namespace

TEST_CASE("parse_ulimit takes Docker's names, soft[:hard] and -1 for unlimited", "[unit]") {
  auto nofile = parse_ulimit("nofile=1024:2048");
  REQUIRE(nofile);
  CHECK(nofile->name == "nofile");
  CHECK(nofile->soft == 1024);
  CHECK(nofile->hard == 2048);
  auto core = parse_ulimit("core=0");
  REQUIRE(core);
  CHECK(core->soft == 0);
  CHECK(core->hard == 0);
  auto stack = parse_ulimit("stack=8192:-1");
  REQUIRE(stack);
  CHECK(stack->hard == kUnlimited);
  auto memlock = parse_ulimit("memlock=-1");
  REQUIRE(memlock);
  CHECK(memlock->soft == kUnlimited);
  CHECK(to_string(*nofile) == "nofile=1024:2048");
  CHECK(to_string(*core) == "core=0");
}

TEST_CASE("parse_ulimit refuses what Docker refuses, with Docker's words", "[unit]") {
  CHECK(error_of("nofile") == "invalid ulimit argument: nofile");
  CHECK(error_of("files=10") == "invalid ulimit type: files");
  CHECK(error_of("nofile=1:2:3") ==
        "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`");
  CHECK(error_of("nofile=2048:1024") ==
        "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024");
  CHECK(error_of("nofile=many") == "invalid ulimit value \"many\" in nofile=many");
  CHECK(error_of("nproc=-1:10") ==
        "ulimit soft limit must be less than or equal to hard limit: -1 > 10");
}

TEST_CASE("plan_rlimits keeps Docker's nofile default unless nofile is given", "[unit]") {
  auto defaults = plan_rlimits({});
  REQUIRE(defaults);
  REQUIRE(defaults->size() == 1);
  CHECK((*defaults)[0].resource == RLIMIT_NOFILE);
  CHECK((*defaults)[0].limit.rlim_cur == 1024);

  auto given = plan_rlimits({*parse_ulimit("nofile=100:200"), *parse_ulimit("core=0")});
  REQUIRE(given);
  REQUIRE(given->size() == 2);
  CHECK((*given)[0].resource == RLIMIT_NOFILE);
  CHECK((*given)[0].limit.rlim_cur == 100);
  CHECK((*given)[0].limit.rlim_max == 200);
  CHECK((*given)[1].resource == RLIMIT_CORE);
  CHECK(std::string((*given)[1].name) == "RLIMIT_CORE");

  auto too_many = plan_rlimits({*parse_ulimit("nofile=-1")});
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error().message().starts_with("--ulimit nofile=-1: "));
}

TEST_CASE("parse_extra_host takes HOST:IP and HOST=IP, v4 and v6", "[unit]") {
  CHECK(*parse_extra_host("db.internal:10.1.2.3") == "db.internal:10.1.2.3");
  CHECK(*parse_extra_host("db=10.1.2.3") == "db:10.1.2.3");
  CHECK(*parse_extra_host("v6:::1") == "v6:::1");
  auto bad = parse_extra_host("db:nowhere");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() ==
        "--add-host \"db:nowhere\": expected HOST:IP with a valid IP address");
  auto gateway = parse_extra_host("host.docker.internal:host-gateway");
  REQUIRE_FALSE(gateway);
  CHECK(gateway.error().kind() == ErrorKind::kUnsupported);
  CHECK_FALSE(parse_extra_host(":10.0.0.1"));
  CHECK_FALSE(parse_extra_host("justaname"));
}

}  // namespace imgbuild::runtime
