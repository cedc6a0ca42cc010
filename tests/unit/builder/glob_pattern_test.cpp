#include "builder/dockerfile/glob_pattern.h"

#include <catch2/catch.hpp>

namespace df = imgbuild::builder::dockerfile;

namespace {

enum Want { kNo, kYes, kBad };

struct Case {
  const char* pattern;
  const char* name;
  Want want;
};

Want go_match(std::string_view pattern, std::string_view name) {
  auto r = df::glob_match(pattern, name);
  if (!r) {
    CHECK(r.error().message() == "syntax error in pattern");
    return kBad;
  }
  return *r ? kYes : kNo;
}

}  // namespace

// Cases written from the semantics documented for Go's path/filepath.Match.
TEST_CASE("glob_match follows Go's filepath.Match") {
  const Case cases[] = {
      {"abc", "abc", kYes},
      {"*", "abc", kYes},
      {"*c", "abc", kYes},
      {"a*", "a", kYes},
      {"a*", "abc", kYes},
      {"a*", "ab/c", kNo},
      {"a*/b", "abc/b", kYes},
      {"a*/b", "a/c/b", kNo},
      {"a*b*c*d*e*/f", "axbxcxdxe/f", kYes},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/f", kYes},
      {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", kNo},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", kNo},
      {"a*b?c*x", "abxbbxdbxebxczzx", kYes},
      {"a*b?c*x", "abxbbxdbxebxczzy", kNo},
      {"ab[c]", "abc", kYes},
      {"ab[b-d]", "abc", kYes},
      {"ab[e-g]", "abc", kNo},
      {"ab[^c]", "abc", kNo},
      {"ab[^b-d]", "abc", kNo},
      {"ab[^e-g]", "abc", kYes},
      {"a\\*b", "a*b", kYes},
      {"a\\*b", "ab", kNo},
      {"a?b", "a\u263Ab", kYes},
      {"a[^a]b", "a\u263Ab", kYes},
      {"a???b", "a\u263Ab", kNo},
      {"a[^a][^a][^a]b", "a\u263Ab", kNo},
      {"[a-\u03B6]*", "\u03B1", kYes},
      {"*[a-\u03B6]", "A", kNo},
      {"a?b", "a/b", kNo},
      {"a*b", "a/b", kNo},
      {"[\\]a]", "]", kYes},
      {"[\\-]", "-", kYes},
      {"[x\\-]", "x", kYes},
      {"[x\\-]", "-", kYes},
      {"[x\\-]", "z", kNo},
      {"[\\-x]", "x", kYes},
      {"[\\-x]", "-", kYes},
      {"[\\-x]", "a", kNo},
      {"[!a]", "!", kYes},  // '!' is no negation in Go
      {"[!a]", "b", kNo},
      {"[z-a]", "m", kNo},  // a backwards range matches nothing
      {"**", "a/b", kNo},   // two stars, each stopping at '/'
      {"[]a]", "]", kBad},
      {"[-]", "-", kBad},
      {"[x-]", "x", kBad},
      {"[x-]", "-", kBad},
      {"[-x]", "x", kBad},
      {"\\", "a", kBad},
      {"[a-b-c]", "a", kBad},
      {"[", "a", kBad},
      {"[^", "a", kBad},
      {"[^bc", "a", kBad},
      {"a[", "a", kBad},
      {"a[", "ab", kBad},
      {"a[", "x", kBad},
      {"a/b[", "x", kBad},
      {"[]", "a", kBad},
      {"[^]", "a", kBad},
      {"*x", "xxx", kYes},
  };
  for (const auto& c : cases) {
    INFO("pattern \"" << c.pattern << "\" name \"" << c.name << "\"");
    CHECK(go_match(c.pattern, c.name) == c.want);
  }
}

TEST_CASE("GlobPattern with kAnyDirs adds patternmatcher's ** rule") {
  auto any_dirs = [](std::string_view pattern, std::string_view name) {
    return df::GlobPattern::compile(pattern, df::DoubleStar::kAnyDirs).value().matches(name);
  };
  CHECK(any_dirs("**/*.go", "a.go"));
  CHECK(any_dirs("**/*.go", "a/b/c.go"));
  CHECK_FALSE(any_dirs("**/*.go", "a/b/c.gox"));
  CHECK(any_dirs("a/**", "a/b/c"));
  CHECK(any_dirs("a/**/b", "a/b"));
  CHECK(any_dirs("a/**/b", "a/x/y/b"));
  CHECK_FALSE(any_dirs("a/**/b", "a/xb"));
  CHECK_FALSE(any_dirs("a/*", "a/b/c"));
  // patternmatcher's regexp refuses a backwards range; Go's Match lets it match nothing.
  CHECK_FALSE(df::GlobPattern::compile("[z-a]", df::DoubleStar::kAnyDirs));
  CHECK(df::GlobPattern::compile("[z-a]"));
}
