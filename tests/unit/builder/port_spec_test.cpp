// EXPOSE: go-connections' nat.ParsePortSpecs rules and wording, and their place in dispatch
// (after ARG expansion, errors naming the Dockerfile line). ADD --checksum on local sources.
#include <catch2/catch.hpp>

#include "builder/dockerfile/build_plan.h"
#include "builder/dockerfile/parser.h"
#include "builder/dockerfile/port_spec.h"

namespace df = imgbuild::builder::dockerfile;
using V = std::vector<std::string>;

namespace {

V ports(std::string_view spec) {
  V out;
  auto status = df::parse_port_spec(spec, out);
  if (!status) FAIL(status.error().message());
  return out;
}

std::string port_error(std::string_view spec) {
  V out;
  auto status = df::parse_port_spec(spec, out);
  if (status) FAIL("accepted: " << spec);
  return status.error().message();
}

// The error expanding the last stage of `text`, or "" when it expands.
std::string dispatch_error(std::string_view text) {
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  if (!parsed) return parsed.error().message();
  df::PlanOptions options;
  auto plan = df::make_build_plan(*parsed, options);
  if (!plan) return plan.error().message();
  auto stages = df::expand_stages(*plan);
  return stages ? "" : stages.error().message();
}

V exposed(std::string_view text) {
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  if (!parsed) FAIL(parsed.error().message());
  auto plan = df::make_build_plan(*parsed, df::PlanOptions{});
  if (!plan) FAIL(plan.error().message());
  auto stages = df::expand_stages(*plan);
  if (!stages) FAIL(stages.error().message());
  V out;
  for (const auto& i : stages->back().instructions)
    if (auto* e = i.get<df::ExposeInstr>())
      out.insert(out.end(), e->entries.begin(), e->entries.end());
  return out;
}

}  // namespace

TEST_CASE("port spec: a port without protocol is tcp; protocols are lower-cased") {
  CHECK(ports("80") == V{"80/tcp"});
  CHECK(ports("80/") == V{"80/tcp"});
  CHECK(ports("53/UDP") == V{"53/udp"});
  CHECK(ports("5000/sctp") == V{"5000/sctp"});
  CHECK(ports("0081") == V{"81/tcp"});
  CHECK(ports("0") == V{"0/tcp"});
  CHECK(ports("65535") == V{"65535/tcp"});
}

TEST_CASE("port spec: a range stands for each of its ports") {
  CHECK(ports("9000-9002/udp") == V{"9000/udp", "9001/udp", "9002/udp"});
  CHECK(ports("7-7") == V{"7/tcp"});
}

TEST_CASE("port spec: an ip and host port before the container port keep the container port") {
  CHECK(ports("8443:443") == V{"443/tcp"});
  CHECK(ports("127.0.0.1:8443:443/udp") == V{"443/udp"});
  CHECK(ports("[::1]:8443:443") == V{"443/tcp"});
  CHECK(ports("127.0.0.1::443") == V{"443/tcp"});
}

TEST_CASE("port spec: Docker's errors") {
  CHECK(port_error("99999999/tcp") == "Invalid containerPort: 99999999");
  CHECK(port_error("65536") == "Invalid containerPort: 65536");
  CHECK(port_error("http") == "Invalid containerPort: http");
  CHECK(port_error("-1") == "Invalid containerPort: -1");
  CHECK(port_error("90-80") == "Invalid containerPort: 90-80");
  CHECK(port_error("80/xyz") == "Invalid proto: xyz");
  CHECK(port_error("/tcp") == "No port specified: /tcp<empty>");
  CHECK(port_error("x:") == "No port specified: x:<empty>");
  CHECK(port_error("abc:80:80") == "Invalid ip address: abc");
  CHECK(port_error("x:80") == "Invalid hostPort: x");
  CHECK(port_error("1000-1001:80-82") ==
        "Invalid ranges specified for container and host Ports: 80-82 and 1000-1001");
}

TEST_CASE("EXPOSE: entries come after ARG expansion, words in the parser's sorted order") {
  CHECK(exposed("FROM a\nARG P=8080\nEXPOSE 80 $P/udp 1-2\n") ==
        V{"8080/udp", "1/tcp", "2/tcp", "80/tcp"});
}

TEST_CASE("EXPOSE: an invalid port or protocol names the Dockerfile line") {
  CHECK(dispatch_error("FROM a\nEXPOSE 80\nEXPOSE 99999999/tcp\n") ==
        "Dockerfile:3: Invalid containerPort: 99999999");
  CHECK(dispatch_error("FROM a\nARG PROTO=xyz\nEXPOSE 80/$PROTO\n") ==
        "Dockerfile:3: Invalid proto: xyz");
}

TEST_CASE("ADD --checksum: refused for a local source or several sources, after expansion") {
  const std::string sum = "sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d";
  CHECK(dispatch_error("FROM a\nADD --checksum=" + sum + " hello.txt /h\n") ==
        "Dockerfile:2: checksum can't be specified for non-HTTP(S) sources");
  CHECK(dispatch_error("FROM a\nARG U=file.txt\nADD --checksum=" + sum + " $U /h\n") ==
        "Dockerfile:3: checksum can't be specified for non-HTTP(S) sources");
  CHECK(dispatch_error("FROM a\nADD --checksum=" + sum + " http://x/a http://x/b /d/\n") ==
        "Dockerfile:2: checksum can't be specified for multiple sources");
  CHECK(dispatch_error("FROM a\nARG U=https://example.com/a\nADD --checksum=" + sum + " $U /h\n") ==
        "");
  CHECK(dispatch_error("FROM a\nCOPY hello.txt /h\nADD hello.txt /h\n") == "");
}
