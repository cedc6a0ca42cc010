#include "base/path_clean.h"

#include <catch2/catch.hpp>

using namespace imgbuild;

namespace {

// What clean_path gives under a policy, or "ERROR: <message>".
std::string cleaned(std::string_view path, DotDot policy) {
  auto r = clean_path(path, policy);
  return r ? *r : "ERROR: " + r.error().message();
}

struct Case {
  const char* path;
  const char* reject;
  const char* clamp;
  const char* keep;
  const char* forbid;
};

}  // namespace

TEST_CASE("clean_path applies each dot-dot policy", "[unit]") {
  const char* up = "climbs above its root";
  const char* dd = "contains \"..\"";
  const Case cases[] = {
      {"", "", "", "", ""},
      {"/", "", "", "", ""},
      {".", "", "", "", ""},
      {"./", "", "", "", ""},
      {"a", "a", "a", "a", "a"},
      {"./a//b/", "a/b", "a/b", "a/b", "a/b"},
      {"/a/./b//c/", "a/b/c", "a/b/c", "a/b/c", "a/b/c"},
      {"a/b/", "a/b", "a/b", "a/b", "a/b"},
      {"a/../b", "b", "b", "b", dd},
      {"a/..", "", "", "", dd},
      {"..", up, "", "..", dd},
      {"../", up, "", "..", dd},
      {"a/../..", up, "", "..", dd},
      {"/../x", up, "x", "../x", dd},
      {"../../etc/hosts", up, "etc/hosts", "../../etc/hosts", dd},
      {"x/../../y", up, "y", "../y", dd},
      {"../a/../b", up, "b", "../b", dd},
      {"a/b/../../../c/d", up, "c/d", "../c/d", dd},
      {"...", "...", "...", "...", "..."},
      {"a/..b/.c", "a/..b/.c", "a/..b/.c", "a/..b/.c", "a/..b/.c"},
  };
  for (const auto& c : cases) {
    INFO("path \"" << c.path << "\"");
    auto check = [&](DotDot policy, const char* want) {
      std::string got = cleaned(c.path, policy);
      if (want == up || want == dd) {
        CHECK(got == "ERROR: path \"" + std::string(c.path) + "\" " + want);
      } else {
        CHECK(got == want);
      }
    };
    check(DotDot::kReject, c.reject);
    check(DotDot::kClamp, c.clamp);
    check(DotDot::kKeep, c.keep);
    check(DotDot::kForbid, c.forbid);
  }
}

TEST_CASE("clean_path errors are kInvalidArgument", "[unit]") {
  auto r = clean_path("../x", DotDot::kReject);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  CHECK(r.error().message() == "path \"../x\" climbs above its root");
}

TEST_CASE("clean_path_parts splits into components", "[unit]") {
  auto parts = clean_path_parts("/usr//local/./bin/../lib", DotDot::kClamp);
  REQUIRE(parts);
  CHECK(*parts == std::vector<std::string>{"usr", "local", "lib"});
  CHECK(clean_path_parts("/", DotDot::kReject)->empty());
  CHECK(join_path_parts(*parts, 2) == "usr/local");
  CHECK(join_path_parts(*parts) == "usr/local/lib");
  CHECK(join_path_parts(*parts, 0) == "");
}

TEST_CASE("cleaning a cleaned path changes nothing", "[unit]") {
  for (const char* p : {"a/b/../c", "../../x/./y", "/../z//", "..", "a/.."}) {
    for (DotDot policy : {DotDot::kReject, DotDot::kClamp, DotDot::kKeep}) {
      auto once = clean_path(p, policy);
      if (!once) continue;
      INFO(p);
      CHECK(clean_path(*once, policy).value() == *once);
    }
  }
}
