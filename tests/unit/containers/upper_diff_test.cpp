#include "containers/upper_diff.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"

namespace imgbuild::containers {
namespace {

void write(const std::string& path, const std::string& text = "") {
  REQUIRE(fs::make_dirs(path.substr(0, path.rfind('/'))));
  REQUIRE(fs::write_file_atomic(path, text));
}

}  // namespace

TEST_CASE("upper_changes: added, changed, deleted, sorted; opaque markers hidden", "[unit]") {
  auto tmp = *fs::TempDir::create("/tmp", "upper-diff-");
  std::string lower = tmp.path() + "/lower", upper = tmp.path() + "/upper";
  write(lower + "/etc/passwd", "root\n");
  write(lower + "/bin/ls");
  write(lower + "/var/cache/x");
  write(upper + "/etc/passwd", "root\napp\n");
  write(upper + "/etc/new");
  write(upper + "/bin/.wh.ls");
  write(upper + "/var/cache/.wh..wh..opq");
  write(upper + "/opt/tool/run");
  auto changes = upper_changes(upper, {lower});
  REQUIRE(changes);
  std::vector<Change> want = {{'C', "/bin"},      {'D', "/bin/ls"},       {'C', "/etc"},
                              {'A', "/etc/new"},  {'C', "/etc/passwd"},   {'A', "/opt"},
                              {'A', "/opt/tool"}, {'A', "/opt/tool/run"}, {'C', "/var"},
                              {'C', "/var/cache"}};
  CHECK(*changes == want);
}

TEST_CASE("upper_changes: a symlink in a lower layer never leads the lookup onto the host",
          "[unit]") {
  auto tmp = *fs::TempDir::create("/tmp", "upper-diff-");
  std::string lower = tmp.path() + "/lower", upper = tmp.path() + "/upper";
  REQUIRE(fs::make_dirs(lower));
  // In the layer, /hostetc points at /etc: resolved inside the layer, where there is no passwd.
  REQUIRE(::symlink("/etc", (lower + "/hostetc").c_str()) == 0);
  write(upper + "/hostetc/passwd");
  auto changes = upper_changes(upper, {lower});
  REQUIRE(changes);
  CHECK(*changes == std::vector<Change>{{'C', "/hostetc"}, {'A', "/hostetc/passwd"}});
}

TEST_CASE("upper_changes: a missing upper names it", "[unit]") {
  auto changes = upper_changes("/nonexistent-upper", {});
  REQUIRE_FALSE(changes);
  CHECK(changes.error().message().find("/nonexistent-upper") != std::string::npos);
}

}  // namespace imgbuild::containers
