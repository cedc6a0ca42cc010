#include "containers_fixture.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "tests/support/busybox_image.h"

namespace imgbuild::containers::testing {

bool cannot_run() {
  if (::geteuid() == 0) return false;
  WARN("WARNING: container tests need root; skipped");
  return true;
}

Cli::Cli(bool import) : dir(*fs::TempDir::create("/var/tmp", "imgbuild-containers-")) {
  root = dir.path() + "/store";
  if (import) {
    imgbuild::testing::import_busybox(root, "busybox:test", dir.path() + "/busybox.tar");
  }
}

Cli::~Cli() {
  auto ids = run({"ps", "-aq", "--no-trunc"});
  std::string id;
  for (char c : ids.out) {
    if (c != '\n') {
      id += c;
      continue;
    }
    run({"rm", "-f", id});
    id.clear();
  }
}

ProcessResult Cli::run(std::vector<std::string> args, std::optional<std::string> input) const {
  args.insert(args.begin(), {IMGBUILD_BINARY, "--root", root});
  ProcessOptions options;
  options.stdin_data = std::move(input);
  auto r = run_process(args, options);
  REQUIRE(r);
  return *r;
}

std::string Cli::run_detached(std::vector<std::string> args) const {
  args.insert(args.begin(), {"run", "-d"});
  auto r = run(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.size() == 65);
  return r.out.substr(0, 64);
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace imgbuild::containers::testing
