// Shared by the container-engine integration tests: a fresh store with the busybox image
// imported as busybox:test, the real imgbuild binary run against it, and cleanup of every
// container (rm -f) when the test ends, even after a failed REQUIRE.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/subprocess.h"

namespace imgbuild::containers::testing {

// True (after a WARN) when the tests cannot run here (not root).
bool cannot_run();

struct Cli {
  fs::TempDir dir;
  std::string root;

  // import: false leaves the store empty (pull tests).
  explicit Cli(bool import = true);
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;
  ~Cli();
  ProcessResult run(std::vector<std::string> args,
                    std::optional<std::string> input = std::nullopt) const;
  // run -d ... and returns the 64-hex id (REQUIREs success).
  std::string run_detached(std::vector<std::string> args) const;
};

// s without its trailing newlines and spaces (a command's output line).
std::string trimmed(std::string s);

// Polls pred every 20 ms until it is true or timeout passes; returns its last value.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace imgbuild::containers::testing
