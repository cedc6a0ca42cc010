#include "tests/support/imgbuild_cli.h"

#include <catch2/catch.hpp>

#include "tests/support/busybox_image.h"

namespace imgbuild::testing {

ImgbuildCli::ImgbuildCli(const std::string& prefix, BusyboxImage image)
    : dir(*fs::TempDir::create("/var/tmp", prefix)), root(dir.path() + "/store") {
  if (image == BusyboxImage::kImport) {
    import_busybox(root, "busybox:test", dir.path() + "/busybox.tar");
  }
}

ImgbuildCli::~ImgbuildCli() {
  // Leave nothing running or mounted even when a test failed half-way.
  auto ids = run_process({IMGBUILD_BINARY, "--root", root, "ps", "-aq", "--no-trunc"});
  if (!ids) return;
  std::string id;
  for (char c : ids->out) {
    if (c != '\n') {
      id += c;
      continue;
    }
    (void)run_process({IMGBUILD_BINARY, "--root", root, "rm", "-f", id});
    id.clear();
  }
}

ProcessResult ImgbuildCli::run(std::vector<std::string> args,
                               std::optional<std::string> input) const {
  args.insert(args.begin(), {IMGBUILD_BINARY, "--root", root});
  ProcessOptions options;
  options.stdin_data = std::move(input);
  auto r = run_process(args, options);
  REQUIRE(r);
  return *r;
}

std::string ImgbuildCli::run_detached(std::vector<std::string> args) const {
  args.insert(args.begin(), {"run", "-d"});
  auto r = run(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.size() == 65);
  return r.out.substr(0, 64);
}

}  // namespace imgbuild::testing
