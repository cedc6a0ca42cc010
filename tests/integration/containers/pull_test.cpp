// `run` and `mount` pull a missing image as Docker does (--pull missing|always|never), from a
// real registry (Debian's docker-registry) holding the busybox test image.
#include <catch2/catch.hpp>

#include "containers_fixture.h"
#include "tests/support/registry_server.h"
#include "tests/support/skip.h"

namespace imgbuild::containers::testing {

TEST_CASE("run and mount pull a missing image; --pull never and bad policies fail",
          "[integration]") {
  if (cannot_run()) return;
  if (!imgbuild::testing::RegistryServer::available()) {
    ::imgbuild::testing::skip("the pull test needs docker-registry");
    return;
  }
  auto& reg =
      imgbuild::testing::RegistryServer::shared(imgbuild::testing::RegistryServer::Auth::kNone);
  std::string ref = reg.host() + "/pulltest/busybox:latest";
  {
    Cli source;
    auto r = source.run({"push", "busybox:test", ref});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  Cli cli(false);
  auto r = cli.run({"run", "--rm", "--pull", "never", ref, "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err == "imgbuild: No such image: " + ref + "\n");
  r = cli.run({"run", "--rm", "--pull", "sometimes", ref, "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err ==
        "imgbuild: invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or "
        "\"never\"\n");

  r = cli.run({"run", "--rm", ref, "echo", "pulled"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "pulled\n");
  CHECK(r.err.starts_with("Unable to find image '" + ref + "' locally\n"));
  CHECK(r.err.find("Status: Downloaded newer image for " + ref + "\n") != std::string::npos);
  // Present now: no pull, no output but the command's.
  r = cli.run({"run", "--rm", ref, "echo", "again"});
  CHECK(r.err == "");
  r = cli.run({"run", "--rm", "--pull", "always", ref, "true"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("Status: Image is up to date for " + ref + "\n") != std::string::npos);

  Cli other(false);
  std::string mnt = other.dir.path() + "/mnt";
  REQUIRE(fs::make_dirs(mnt));
  r = other.run({"mount", ref, mnt});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.starts_with("Unable to find image '" + ref + "' locally\n"));
  CHECK(fs::exists(mnt + "/bin/busybox"));
  CHECK(other.run({"umount", mnt}).exit_code == 0);
}

}  // namespace imgbuild::containers::testing
