#include "builder/build_secret.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>

namespace imgbuild::builder {
namespace {

TEST_CASE("--secret values as buildx takes them") {
  auto f = parse_secret_flag("id=token,src=/run/token.txt");
  REQUIRE(f);
  CHECK(f->first == "token");
  CHECK(f->second.file == "/run/token.txt");
  CHECK(f->second.env.empty());

  auto e = parse_secret_flag("id=aws,env=AWS_KEY");
  REQUIRE(e);
  CHECK(e->second.env == "AWS_KEY");

  ::setenv("IMGBUILD_TEST_SECRET", "v", 1);
  auto bare = parse_secret_flag("id=IMGBUILD_TEST_SECRET");
  REQUIRE(bare);
  CHECK(bare->second.env == "IMGBUILD_TEST_SECRET");
  ::unsetenv("IMGBUILD_TEST_SECRET");
  auto file = parse_secret_flag("id=IMGBUILD_TEST_SECRET");
  REQUIRE(file);
  CHECK(file->second.file == "IMGBUILD_TEST_SECRET");

  auto typed = parse_secret_flag("type=env,id=x,source=HOME");
  REQUIRE(typed);
  CHECK(typed->second.env == "HOME");
  CHECK(typed->second.file.empty());
}

TEST_CASE("bad --secret values name the value and the fault") {
  auto no_id = parse_secret_flag("src=/x");
  REQUIRE_FALSE(no_id);
  CHECK(no_id.error().message() == "--secret \"src=/x\": id= is required");
  CHECK_FALSE(parse_secret_flag("id=a,src=/x,env=Y"));
  CHECK_FALSE(parse_secret_flag("id=a,colour=red"));
  CHECK_FALSE(parse_secret_flag("id=a,type=ssh"));
  CHECK_FALSE(parse_secret_flag("id"));
}

TEST_CASE("a secret is read late and written privately with the mount's mode and owner") {
  ::setenv("IMGBUILD_TEST_SECRET2", "s3cr3t", 1);
  auto v = read_secret("x", BuildSecret{"", "IMGBUILD_TEST_SECRET2"});
  REQUIRE(v);
  CHECK(*v == "s3cr3t");
  ::unsetenv("IMGBUILD_TEST_SECRET2");
  auto missing = read_secret("x", BuildSecret{"", "IMGBUILD_TEST_SECRET2"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find("secret x") != std::string::npos);
  auto no_file = read_secret("y", BuildSecret{"/nonexistent/secret", ""});
  REQUIRE_FALSE(no_file);
  CHECK(no_file.error().message().find("secret y") != std::string::npos);

  std::string dir;
  {
    auto f = materialize_secret("value", 0440, ::geteuid(), ::getegid());
    REQUIRE(f);
    dir = f->dir.path();
    struct stat st {};
    REQUIRE(::stat(f->path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0440);
    CHECK(st.st_size == 5);
  }
  struct stat gone {};
  CHECK(::stat(dir.c_str(), &gone) != 0);  // removed with the SecretFile
}

}  // namespace
}  // namespace imgbuild::builder
