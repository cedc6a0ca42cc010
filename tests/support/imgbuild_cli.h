// The real imgbuild binary run against a private store (--root in a fresh temp directory), for
// integration tests: optionally with the busybox image imported as busybox:test, and every
// container removed (rm -f) when the test ends, even after a failed REQUIRE.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/subprocess.h"

namespace imgbuild::testing {

enum class BusyboxImage { kImport, kNone };

class ImgbuildCli {
 public:
  // The temp directory is /var/tmp/<prefix>XXXXXX (not tmpfs: overlay-like upper layers).
  explicit ImgbuildCli(const std::string& prefix, BusyboxImage image = BusyboxImage::kImport);
  ImgbuildCli(const ImgbuildCli&) = delete;
  ImgbuildCli& operator=(const ImgbuildCli&) = delete;
  ~ImgbuildCli();

  // `imgbuild --root ROOT ARGS...` to completion (REQUIREs that it started).
  ProcessResult run(std::vector<std::string> args,
                    std::optional<std::string> input = std::nullopt) const;
  // run -d ARGS... and returns the 64-hex id (REQUIREs success).
  std::string run_detached(std::vector<std::string> args) const;

  fs::TempDir dir;
  std::string root;  // the store
};

}  // namespace imgbuild::testing
