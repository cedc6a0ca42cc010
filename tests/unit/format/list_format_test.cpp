#include "format/list_format.h"

#include <catch2/catch.hpp>

#include "format/tabwriter.h"

namespace imgbuild::format {
namespace {

using Json = nlohmann::json;

const Json kHeaders = {{"ID", "IMAGE ID"}, {"Repository", "REPOSITORY"}, {"Tag", "TAG"}};
const char* kDefault = "{{.Repository}}\t{{.Tag}}\t{{.ID}}";
const std::vector<Json> kRows = {
    {{"ID", "a1b2c3d4e5f6"}, {"Repository", "busybox"}, {"Tag", "latest"}},
    {{"ID", "0123456789ab"}, {"Repository", "localhost:5000/app"}, {"Tag", "1"}},
};

std::string render(const std::string& flag) {
  auto f = ListFormat::parse(flag, kDefault, kHeaders);
  REQUIRE(f);
  auto out = f->render(kRows);
  REQUIRE(out);
  return *out;
}

TEST_CASE("tabwriter pads columns as Docker's (minwidth 10, padding 3)", "[unit]") {
  CHECK(tabwrite("REPOSITORY\tTAG\tIMAGE ID\nbusybox\tlatest\tabc\n") ==
        "REPOSITORY   TAG       IMAGE ID\n"
        "busybox      latest    abc\n");
  CHECK(tabwrite("a\tb\nno tabs here\nccc\td\n") == "a         b\nno tabs here\nccc       d\n");
  CHECK(tabwrite("ünï\tx\nab\ty\n") == "ünï       x\nab        y\n");
  CHECK(tabwrite("") == "");
}

TEST_CASE("list format: default table, table directive, json, plain template", "[unit]") {
  CHECK(render("") ==
        "REPOSITORY           TAG       IMAGE ID\n"
        "busybox              latest    a1b2c3d4e5f6\n"
        "localhost:5000/app   1         0123456789ab\n");
  CHECK(render("table") == render(""));
  CHECK(render("table {{.ID}}\\t{{.Repository}}") ==
        "IMAGE ID       REPOSITORY\n"
        "a1b2c3d4e5f6   busybox\n"
        "0123456789ab   localhost:5000/app\n");
  CHECK(render("{{.ID}}: {{.Repository}}") ==
        "a1b2c3d4e5f6: busybox\n0123456789ab: localhost:5000/app\n");
  CHECK(render("json") ==
        "{\"ID\":\"a1b2c3d4e5f6\",\"Repository\":\"busybox\",\"Tag\":\"latest\"}\n"
        "{\"ID\":\"0123456789ab\",\"Repository\":\"localhost:5000/app\",\"Tag\":\"1\"}\n");
}

TEST_CASE("list format: a table with no rows still prints its header", "[unit]") {
  auto f = ListFormat::parse("table {{.Repository}}\t{{.Tag}}", kDefault, kHeaders);
  REQUIRE(f);
  CHECK(*f->render({}) == "REPOSITORY   TAG\n");
}

TEST_CASE("list format: syntax errors are Docker's template parsing error", "[unit]") {
  auto f = ListFormat::parse("{{.ID}", kDefault, kHeaders);
  REQUIRE_FALSE(f);
  CHECK(f.error().message() == "template parsing error: template: :1: unexpected \"}\" in operand");
}

}  // namespace
}  // namespace imgbuild::format
