#include "runtime/port_mapping.h"

#include <catch2/catch.hpp>

namespace imgbuild::runtime {
namespace {

PortMapping one(std::string_view spec) {
  auto r = parse_port_spec(spec);
  INFO(spec << ": " << (r ? "" : r.error().message()));
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  return r->front();
}

std::string error_of(std::string_view spec) {
  auto r = parse_port_spec(spec);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  return r.error().message();
}

TEST_CASE("-p forms Docker accepts") {
  CHECK(one("8080:80") == PortMapping{"", 8080, 80, Protocol::kTcp});
  CHECK(one("80") == PortMapping{"", 0, 80, Protocol::kTcp});
  CHECK(one("127.0.0.1:8080:80") == PortMapping{"127.0.0.1", 8080, 80, Protocol::kTcp});
  CHECK(one("127.0.0.1::80") == PortMapping{"127.0.0.1", 0, 80, Protocol::kTcp});
  CHECK(one("5353:53/udp") == PortMapping{"", 5353, 53, Protocol::kUdp});
  CHECK(one("8080:80/tcp") == PortMapping{"", 8080, 80, Protocol::kTcp});
  CHECK(one("[::1]:8080:80") == PortMapping{"::1", 8080, 80, Protocol::kTcp});
}

TEST_CASE("-p port ranges expand pairwise") {
  auto r = parse_port_spec("8000-8002:80-82");
  REQUIRE(r);
  REQUIRE(r->size() == 3);
  CHECK((*r)[2] == PortMapping{"", 8002, 82, Protocol::kTcp});
  auto any = parse_port_spec("7000-7001");
  REQUIRE(any);
  CHECK(any->size() == 2);
  CHECK((*any)[1].host_port == 0);
}

TEST_CASE("bad -p values are refused, naming the value and the fault") {
  CHECK(error_of("80:99999")
            .find("invalid port specification: \"80:99999\": invalid container "
                  "port \"99999\"") != std::string::npos);
  CHECK(error_of("x:80").find("invalid host port") != std::string::npos);
  CHECK(error_of("80/sctp").find("invalid protocol \"sctp\"") != std::string::npos);
  CHECK(error_of("300.1.1.1:80:80").find("invalid IP address") != std::string::npos);
  CHECK(error_of("1:2:3:4").find("too many colons") != std::string::npos);
  CHECK(error_of("8000-8001:80").find("same length") != std::string::npos);
  CHECK(error_of(":80").find("empty host port") != std::string::npos);
  CHECK(error_of("0:80").find("invalid host port") != std::string::npos);
  CHECK(error_of("").find("invalid container port") != std::string::npos);
  CHECK(error_of("90-80:90-80").find("range") != std::string::npos);
}

TEST_CASE("exposed ports and how mappings print") {
  auto e = parse_exposed_port("53/udp");
  REQUIRE(e);
  CHECK(*e == PortMapping{"", 0, 53, Protocol::kUdp});
  CHECK(parse_exposed_port("80")->protocol == Protocol::kTcp);
  CHECK_FALSE(parse_exposed_port("eighty/tcp"));
  CHECK(describe({"", 8080, 80, Protocol::kTcp}) == "0.0.0.0:8080->80/tcp");
  CHECK(describe({"::1", 5353, 53, Protocol::kUdp}) == "[::1]:5353->53/udp");
  CHECK(container_side({"", 1, 443, Protocol::kTcp}) == "443/tcp");
}

}  // namespace
}  // namespace imgbuild::runtime
