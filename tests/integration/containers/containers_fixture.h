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
#include "tests/support/imgbuild_cli.h"

namespace imgbuild::containers::testing {

// True (after a WARN) when the tests cannot run here (not root).
bool cannot_run();

// The binary on a private store with busybox:test (import: false leaves the store empty, for
// the pull tests).
struct Cli : imgbuild::testing::ImgbuildCli {
  explicit Cli(bool import = true)
      : ImgbuildCli("imgbuild-containers-", import ? imgbuild::testing::BusyboxImage::kImport
                                                   : imgbuild::testing::BusyboxImage::kNone) {}
};

// s without its trailing newlines and spaces (a command's output line).
std::string trimmed(std::string s);

// Polls pred every 20 ms until it is true or timeout passes; returns its last value.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace imgbuild::containers::testing
