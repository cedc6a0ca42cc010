#include <fcntl.h>

#include <catch2/catch.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/subprocess.h"
#include "base/sys.h"

using namespace imgbuild;

static Result<int> parse_positive(int v) {
  if (v <= 0) return fail(ErrorKind::kInvalidArgument, "not positive: " + std::to_string(v));
  return v;
}

static Result<int> doubled(int v) {
  int x = TRY_CTX(parse_positive(v), "doubling");
  return x * 2;
}

TEST_CASE("TRY passes values through and returns errors with context") {
  REQUIRE(doubled(2).value() == 4);
  auto r = doubled(-1);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "doubling: not positive: -1");
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("syscall errors name the operation, subject and errno") {
  auto r = sys::open("/nonexistent/imgbuild-test", O_RDONLY);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() ==
        "openat(/nonexistent/imgbuild-test): ENOENT (No such file or directory)");
  CHECK(r.error().kind() == ErrorKind::kNotFound);
  CHECK(r.error().errno_value() == ENOENT);
}

TEST_CASE("sha256 of known vectors") {
  CHECK(Sha256::hex_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(h.finish_hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("write_file_atomic replaces content and remove_tree removes read-only trees") {
  auto dir = fs::TempDir::create().value();
  std::string f = fs::join(dir.path(), "x/y/file");
  REQUIRE(fs::make_dirs(fs::join(dir.path(), "x/y")));
  REQUIRE(fs::write_file_atomic(f, "one"));
  REQUIRE(fs::write_file_atomic(f, "two"));
  CHECK(fs::read_file(f).value() == "two");
  REQUIRE(::chmod(fs::join(dir.path(), "x/y").c_str(), 0500) == 0);
  REQUIRE(fs::remove_tree(fs::join(dir.path(), "x")));
  CHECK_FALSE(fs::exists(fs::join(dir.path(), "x")));
}

TEST_CASE("run_process captures output and exit codes") {
  auto r = run_process({"sh", "-c", "cat; echo err >&2; exit 3"}, {.stdin_data = "hello"});
  REQUIRE(r);
  CHECK(r->out == "hello");
  CHECK(r->err == "err\n");
  CHECK(r->exit_code == 3);
  auto missing = run_process({"imgbuild-no-such-program"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find("exec(imgbuild-no-such-program): ENOENT") == 0);
}
