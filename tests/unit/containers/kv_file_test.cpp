#include "containers/kv_file.h"

#include <catch2/catch.hpp>

#include "base/fs.h"

namespace imgbuild::containers {

TEST_CASE("parse_labels: files first, then flags; K alone is an empty value", "[unit]") {
  auto tmp = *fs::TempDir::create("/tmp", "kv-file-");
  std::string file = tmp.path() + "/labels";
  REQUIRE(fs::write_file_atomic(file, "# comment\n\n  tier=db\r\nowner=files\nflag\n"));
  auto labels = parse_labels({"owner=flags", "x=a=b"}, {file});
  REQUIRE(labels);
  CHECK(*labels == std::map<std::string, std::string>{
                       {"tier", "db"}, {"owner", "flags"}, {"flag", ""}, {"x", "a=b"}});
}

TEST_CASE("read_kv_file names the line of a key with blanks", "[unit]") {
  auto tmp = *fs::TempDir::create("/tmp", "kv-file-");
  std::string file = tmp.path() + "/env";
  REQUIRE(fs::write_file_atomic(file, "A=1\nB C=2\n"));
  auto r = read_kv_file(file, KvFileKind::kEnv);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == file + ":2: variable 'B C' contains whitespaces");
}

TEST_CASE("read_kv_file: a bare KEY takes this environment's value in env files only", "[unit]") {
  auto tmp = *fs::TempDir::create("/tmp", "kv-file-");
  std::string file = tmp.path() + "/env";
  REQUIRE(fs::write_file_atomic(file, "KV_FILE_TEST_SET\nKV_FILE_TEST_UNSET\n"));
  ::setenv("KV_FILE_TEST_SET", "yes", 1);
  ::unsetenv("KV_FILE_TEST_UNSET");
  CHECK(*read_kv_file(file, KvFileKind::kEnv) == std::vector<std::string>{"KV_FILE_TEST_SET=yes"});
  CHECK(*read_kv_file(file, KvFileKind::kLabels) ==
        std::vector<std::string>{"KV_FILE_TEST_SET", "KV_FILE_TEST_UNSET"});
}

TEST_CASE("labels_match: K matches any value, K=V only that value", "[unit]") {
  std::map<std::string, std::string> labels = {{"tier", "db"}, {"empty", ""}};
  CHECK(labels_match(labels, "tier"));
  CHECK(labels_match(labels, "tier=db"));
  CHECK_FALSE(labels_match(labels, "tier=web"));
  CHECK(labels_match(labels, "empty="));
  CHECK_FALSE(labels_match(labels, "other"));
}

}  // namespace imgbuild::containers
