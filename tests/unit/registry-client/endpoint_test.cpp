#include <catch2/catch.hpp>
#include <cstdlib>

#include "registry-client/endpoint.h"

using namespace imgbuild::registry;

TEST_CASE("plain HTTP is allowed for loopback registries only") {
  CHECK(allows_insecure("localhost:5000", {}));
  CHECK(allows_insecure("localhost", {}));
  CHECK(allows_insecure("127.0.0.1:5000", {}));
  CHECK(allows_insecure("127.8.9.10", {}));
  CHECK(allows_insecure("[::1]:5000", {}));
  CHECK_FALSE(allows_insecure("128.0.0.1:5000", {}));
  CHECK_FALSE(allows_insecure("registry.example.com", {}));
  CHECK_FALSE(allows_insecure("localhost.example.com:5000", {}));
  CHECK_FALSE(allows_insecure("[::2]:5000", {}));
}

TEST_CASE("insecure registry entries match a host on any port or one host:port") {
  CHECK(allows_insecure("reg.lan:5000", {"reg.lan"}));
  CHECK(allows_insecure("reg.lan", {"reg.lan"}));
  CHECK(allows_insecure("reg.lan:5000", {"reg.lan:5000"}));
  CHECK_FALSE(allows_insecure("reg.lan:5001", {"reg.lan:5000"}));
  CHECK(allows_insecure("REG.lan:5000", {"http://reg.lan:5000/"}));
  CHECK_FALSE(allows_insecure("other.lan", {"reg.lan"}));
}

TEST_CASE("IMGBUILD_INSECURE_REGISTRIES is split on commas and spaces") {
  ::setenv("IMGBUILD_INSECURE_REGISTRIES", "a.lan:5000, b.lan  c.lan", 1);
  auto list = insecure_registries_from_env();
  ::unsetenv("IMGBUILD_INSECURE_REGISTRIES");
  CHECK(list == std::vector<std::string>{"a.lan:5000", "b.lan", "c.lan"});
}

TEST_CASE("docker hub names map to the API host and the config.json key") {
  CHECK(api_host("docker.io") == "registry-1.docker.io");
  CHECK(api_host("localhost:5000") == "localhost:5000");
  CHECK(credential_key("docker.io") == "https://index.docker.io/v1/");
  CHECK(credential_key("quay.io") == "quay.io");
  CHECK(normalize_registry("https://index.docker.io/v1/") == "docker.io");
  CHECK(normalize_registry("http://Localhost:5000/v2/") == "localhost:5000");
  CHECK(normalize_registry("quay.io") == "quay.io");
}

TEST_CASE("host and port are split for names, IPv4 and bracketed IPv6") {
  std::string h, p;
  split_host_port("reg:5000", &h, &p);
  CHECK((h == "reg" && p == "5000"));
  split_host_port("[::1]:5000", &h, &p);
  CHECK((h == "::1" && p == "5000"));
  split_host_port("::1", &h, &p);
  CHECK((h == "::1" && p.empty()));
}
