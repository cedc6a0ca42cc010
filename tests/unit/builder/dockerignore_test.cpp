// .dockerignore: Docker's matching rules and file precedence.
#include <catch2/catch.hpp>

#include "base/fs.h"
#include "builder/dockerfile/dockerignore.h"

namespace df = imgbuild::builder::dockerfile;

namespace {

df::IgnoreMatcher matcher(std::string_view text) {
  auto m = df::IgnoreMatcher::parse(text);
  if (!m) FAIL(m.error().message());
  return std::move(*m);
}

}  // namespace

TEST_CASE("dockerignore: plain names, globs and parent directories") {
  auto m = matcher("# comment\n\nnode_modules\n*.log\n/build/\n./tmp\ndocs/*.md\n");
  CHECK(m.size() == 5);
  CHECK(m.excluded("node_modules"));
  CHECK(m.excluded("node_modules/x/y.js"));     // parent directory matched
  CHECK_FALSE(m.excluded("src/node_modules"));  // patterns are anchored at the root
  CHECK(m.excluded("app.log"));
  CHECK_FALSE(m.excluded("logs/app.log"));  // * does not cross '/'
  CHECK(m.excluded("build/out.o"));
  CHECK(m.excluded("tmp"));
  CHECK(m.excluded("docs/a.md"));
  CHECK_FALSE(m.excluded("docs/sub/a.md"));
  CHECK_FALSE(m.excluded("# comment"));
}

TEST_CASE("dockerignore: ** matches any number of directories") {
  auto m = matcher("**/*.tmp\nvendor/**\na/**/z\n**/cache\n");
  CHECK(m.excluded("x.tmp"));
  CHECK(m.excluded("a/b/c/x.tmp"));
  CHECK(m.excluded("vendor/x/y"));
  CHECK(m.excluded("a/z"));
  CHECK(m.excluded("a/b/c/z"));
  CHECK(m.excluded("cache"));
  CHECK(m.excluded("deep/er/cache/file"));
  CHECK_FALSE(m.excluded("a/b/c/y"));
}

TEST_CASE("dockerignore: ! exceptions, last match wins") {
  auto m = matcher("*.md\n!README.md\nREADME*\n!docs\ndocs/secret\n");
  CHECK(m.excluded("CHANGES.md"));
  CHECK(m.excluded("README.md"));  // re-excluded by the later README*
  auto n = matcher("*.md\n!README.md\n");
  CHECK_FALSE(n.excluded("README.md"));
  CHECK(m.excluded("docs/secret"));
  CHECK_FALSE(m.excluded("docs/public"));
}

TEST_CASE("dockerignore: character classes, ? and escapes as Go's filepath.Match") {
  auto m = matcher("file[0-9].txt\n?.c\n[^a]b\nstar\\*\n");
  CHECK(m.excluded("file7.txt"));
  CHECK_FALSE(m.excluded("filex.txt"));
  CHECK(m.excluded("x.c"));
  CHECK_FALSE(m.excluded("xy.c"));
  CHECK(m.excluded("cb"));
  CHECK_FALSE(m.excluded("ab"));
  CHECK(m.excluded("star*"));
  CHECK_FALSE(m.excluded("starx"));
}

TEST_CASE("dockerignore: paths and patterns are cleaned") {
  auto m = matcher("a/../b\n/c//d/\n");
  CHECK(m.patterns()[0].text == "b");
  CHECK(m.patterns()[1].text == "c/d");
  CHECK(m.excluded("./b"));
  CHECK(m.excluded("c/d/e"));
  CHECK(m.excluded("/c/d"));
  CHECK(df::clean_path("a//b/./../c/") == "a/c");
  CHECK(df::clean_path("") == ".");
  CHECK(df::clean_path("/../x") == "/x");
}

TEST_CASE("dockerignore: directories are skipped unless an exception may re-include below") {
  auto m = matcher("vendor\n!vendor/keep\nbuild\ncache\n!*/cache/keep\n");
  CHECK(m.excluded("vendor", true));
  CHECK(m.may_include_below("vendor"));
  CHECK(m.excluded("vendor/drop"));
  CHECK_FALSE(m.excluded("vendor/keep"));
  CHECK(m.may_include_below("x"));  // */cache/keep could match below x
  auto plain = matcher("build\nvendor\n!vendor/keep\n");
  CHECK_FALSE(plain.may_include_below("build"));
  CHECK(plain.may_include_below("vendor"));
}

TEST_CASE("dockerignore: malformed patterns are errors naming the line") {
  auto bad = df::IgnoreMatcher::parse("ok\n\nfile[a-\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() == ".dockerignore:3: syntax error in pattern: file[a-");
  auto bang = df::IgnoreMatcher::parse("!\n");
  REQUIRE_FALSE(bang);
  CHECK(bang.error().message() == ".dockerignore:1: illegal exclusion pattern: \"!\"");
  CHECK(df::glob_match("a[", "a").error().message() == "syntax error in pattern");
  CHECK(df::glob_match("a*", "abc").value());
  CHECK_FALSE(df::glob_match("a*", "a/c").value());
}

TEST_CASE("dockerignore: <Dockerfile>.dockerignore wins; Dockerfile and ignore file always sent") {
  auto dir = imgbuild::fs::TempDir::create();
  REQUIRE(dir);
  const std::string& root = dir->path();
  REQUIRE(imgbuild::fs::make_dirs(root + "/ci"));
  REQUIRE(imgbuild::fs::write_file_atomic(root + "/.dockerignore", "*.txt\n.dockerignore\n"));
  REQUIRE(imgbuild::fs::write_file_atomic(root + "/ci/app.Dockerfile", "FROM a\n"));
  REQUIRE(imgbuild::fs::write_file_atomic(root + "/ci/app.Dockerfile.dockerignore", "ci\n*.md\n"));

  auto specific = df::load_dockerignore(root, root + "/ci/app.Dockerfile");
  REQUIRE(specific);
  CHECK(specific->excluded("README.md"));
  CHECK_FALSE(specific->excluded("notes.txt"));
  CHECK(specific->excluded("ci/other"));
  CHECK_FALSE(specific->excluded("ci/app.Dockerfile"));
  CHECK_FALSE(specific->excluded("ci/app.Dockerfile.dockerignore"));

  auto generic = df::load_dockerignore(root, root + "/Dockerfile");
  REQUIRE(generic);
  CHECK(generic->excluded("notes.txt"));
  CHECK_FALSE(generic->excluded(".dockerignore"));
  CHECK_FALSE(generic->excluded("README.md"));

  auto none = df::load_dockerignore(root + "/ci", "");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("dockerignore: limits on file size, pattern count and pattern length") {
  auto big = df::IgnoreMatcher::parse(std::string((1 << 20) + 1, 'a'));
  REQUIRE_FALSE(big);
  CHECK(big.error().kind() == imgbuild::ErrorKind::kLimit);
  CHECK(big.error().message() == ".dockerignore: file is larger than 1 MiB");

  std::string many = "# patterns\n";
  for (int i = 0; i < 10'000; ++i) many += "f" + std::to_string(i) + "\n";
  CHECK(df::IgnoreMatcher::parse(many)->size() == 10'000);
  auto too_many = df::IgnoreMatcher::parse(many + "\nlast\n");
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error().kind() == imgbuild::ErrorKind::kLimit);
  CHECK(too_many.error().message() == ".dockerignore:10003: more than 10000 patterns");

  CHECK(df::IgnoreMatcher::parse(std::string(4096, '*')));
  auto long_pattern = df::IgnoreMatcher::parse("ok\n" + std::string(4097, '*') + "\n");
  REQUIRE_FALSE(long_pattern);
  CHECK(long_pattern.error().message() == ".dockerignore:2: pattern is longer than 4096 bytes");
}

TEST_CASE("dockerignore: an ignore file over 1 MiB is refused without reading it all") {
  auto dir = imgbuild::fs::TempDir::create();
  REQUIRE(dir);
  const std::string& root = dir->path();
  REQUIRE(
      imgbuild::fs::write_file_atomic(root + "/.dockerignore", std::string((1 << 20) + 1, 'a')));
  auto m = df::load_dockerignore(root, "");
  REQUIRE_FALSE(m);
  CHECK(m.error().kind() == imgbuild::ErrorKind::kLimit);
  CHECK(m.error().message() == root + "/.dockerignore: file is larger than 1 MiB");
}
