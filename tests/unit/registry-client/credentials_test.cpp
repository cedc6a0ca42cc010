#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "base/fs.h"
#include "registry-client/credentials.h"

using namespace imgbuild;
using namespace imgbuild::registry;

TEST_CASE("base64 round-trips with padding") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("user:pass") == "dXNlcjpwYXNz");
  CHECK(*base64_decode("dXNlcjpwYXNz") == "user:pass");
  CHECK(!base64_decode("@@@"));
}

TEST_CASE("a missing config.json means no credentials") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  auto store = CredentialStore::load(dir->path());
  REQUIRE(store);
  auto c = store->get("localhost:5000");
  REQUIRE(c);
  CHECK(c->empty());
}

TEST_CASE("store writes auths with mode 0600, keeps other keys, get and erase read it back") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  std::string cfg = dir->path() + "/docker";
  REQUIRE(fs::make_dirs(cfg));
  REQUIRE(fs::write_file_atomic(cfg + "/config.json", R"({"psFormat": "table"})"));
  auto store = CredentialStore::load(cfg);
  REQUIRE(store);
  REQUIRE(store->store("localhost:5000", Credential{.username = "bob", .password = "hunter2"}));
  struct stat st {};
  REQUIRE(::stat((cfg + "/config.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto text = fs::read_file(cfg + "/config.json");
  REQUIRE(text);
  auto j = nlohmann::json::parse(*text);
  CHECK(j["psFormat"] == "table");
  CHECK(j["auths"]["localhost:5000"]["auth"] == "Ym9iOmh1bnRlcjI=");

  auto again = CredentialStore::load(cfg);
  REQUIRE(again);
  auto c = again->get("http://localhost:5000/");
  REQUIRE(c);
  CHECK(c->username == "bob");
  CHECK(c->password == "hunter2");
  REQUIRE(again->erase("localhost:5000"));
  CHECK(again->get("localhost:5000")->empty());
  auto missing = again->erase("localhost:5000");
  REQUIRE(!missing);
  CHECK(missing.error().message() == "not logged in to localhost:5000 (" + cfg + "/config.json)");
}

TEST_CASE("docker hub credentials use the v1 index key and identity tokens are read") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  REQUIRE(fs::write_file_atomic(
      dir->path() + "/config.json",
      R"({"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"reg.lan":{"identitytoken":"refresh-me"}}})"));
  auto store = CredentialStore::load(dir->path());
  REQUIRE(store);
  auto hub = store->get("docker.io");
  REQUIRE(hub);
  CHECK(hub->username == "u");
  CHECK(hub->password == "p");
  auto lan = store->get("reg.lan");
  REQUIRE(lan);
  CHECK(lan->identity_token == "refresh-me");
}

TEST_CASE("malformed config.json is an error naming the file but not its content") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  REQUIRE(
      fs::write_file_atomic(dir->path() + "/config.json", R"({"auths": {"x": {"auth": "c2VjcmV0)"));
  auto store = CredentialStore::load(dir->path());
  REQUIRE(!store);
  CHECK(store.error().message() == dir->path() + "/config.json: invalid JSON at byte 35");
  CHECK(store.error().message().find("c2VjcmV0") == std::string::npos);

  REQUIRE(fs::write_file_atomic(dir->path() + "/config.json",
                                R"({"auths":{"r":{"auth":"bm9jb2xvbg=="}}})"));
  auto s2 = CredentialStore::load(dir->path());
  REQUIRE(s2);
  auto c = s2->get("r");
  REQUIRE(!c);
  CHECK(c.error().message() ==
        dir->path() + "/config.json: auths.r.auth is not base64 of \"user:password\"");
}

TEST_CASE("credential helpers are used for get, store and erase; a missing helper is anonymous") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  std::string bin = dir->path() + "/bin";
  REQUIRE(fs::make_dirs(bin));
  // A helper that keeps one credential in a file, as the protocol describes.
  std::string script = "#!/bin/sh\nstate=" + dir->path() +
                       "/helper-state\n"
                       "case \"$1\" in\n"
                       "get) read url; [ -f $state ] || { echo 'credentials not found'; exit 1; };"
                       " cat $state;;\n"
                       "store) cat > $state;;\n"
                       "erase) read url; rm -f $state;;\n"
                       "esac\n";
  REQUIRE(fs::write_file_atomic(bin + "/docker-credential-fake", script, 0755));
  REQUIRE(fs::write_file_atomic(dir->path() + "/config.json",
                                R"({"credHelpers":{"reg.lan":"fake"},"credsStore":"absent"})"));
  std::string old_path = std::getenv("PATH");
  ::setenv("PATH", (bin + ":" + old_path).c_str(), 1);
  auto store = CredentialStore::load(dir->path());
  REQUIRE(store);
  CHECK(store->helper_for("reg.lan") == "fake");
  CHECK(store->helper_for("other.lan") == "absent");
  CHECK(store->get("reg.lan")->empty());
  REQUIRE(store->store("reg.lan", Credential{.username = "amy", .password = "pw1"}));
  auto c = store->get("reg.lan");
  REQUIRE(c);
  CHECK(c->username == "amy");
  CHECK(c->password == "pw1");
  // The password went to the helper, not into config.json.
  CHECK(fs::read_file(dir->path() + "/config.json")->find("pw1") == std::string::npos);
  REQUIRE(store->erase("reg.lan"));
  CHECK(store->get("reg.lan")->empty());
  // credsStore names a helper that is not installed: anonymous, not an error.
  auto other = store->get("other.lan");
  REQUIRE(other);
  CHECK(other->empty());
  ::setenv("PATH", old_path.c_str(), 1);
}
