#include <catch2/catch.hpp>

#include "builder/output_spec.h"

using imgbuild::builder::OutputSpec;
using imgbuild::builder::parse_output_spec;

TEST_CASE("--output short forms", "[output_spec]") {
  auto dir = parse_output_spec("out/dir");
  REQUIRE(dir);
  CHECK(dir->type == OutputSpec::Type::kLocal);
  CHECK(dir->dest == "out/dir");
  auto dash = parse_output_spec("-");
  REQUIRE(dash);
  CHECK(dash->type == OutputSpec::Type::kTar);
  CHECK(dash->dest == "-");
}

TEST_CASE("--output CSV forms", "[output_spec]") {
  auto local = parse_output_spec("type=local,dest=/tmp/x");
  REQUIRE(local);
  CHECK(local->type == OutputSpec::Type::kLocal);
  CHECK(local->dest == "/tmp/x");
  auto oci = parse_output_spec("type=oci,dest=img.tar");
  REQUIRE(oci);
  CHECK(oci->type == OutputSpec::Type::kOci);
  auto docker = parse_output_spec("type=docker");
  REQUIRE(docker);
  CHECK(docker->type == OutputSpec::Type::kDocker);
  CHECK(docker->dest == "-");
  auto reg = parse_output_spec("type=registry,name=localhost:5000/a:1");
  REQUIRE(reg);
  CHECK(reg->type == OutputSpec::Type::kImage);
  CHECK(reg->push);
  CHECK(reg->name == "localhost:5000/a:1");
  auto image = parse_output_spec("type=image,name=a:1,push=false");
  REQUIRE(image);
  CHECK_FALSE(image->push);
}

TEST_CASE("--output errors name the problem", "[output_spec]") {
  auto unknown = parse_output_spec("type=cacheonly");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message().find("unsupported output type \"cacheonly\"") !=
        std::string::npos);
  CHECK_FALSE(parse_output_spec("type=local"));
  CHECK_FALSE(parse_output_spec("dest=x"));
  auto key = parse_output_spec("type=tar,dest=x,compression=gzip");
  REQUIRE_FALSE(key);
  CHECK(key.error().message().find("unknown key \"compression\"") != std::string::npos);
  CHECK_FALSE(parse_output_spec("type=image,push=maybe"));
  CHECK_FALSE(parse_output_spec(""));
}
