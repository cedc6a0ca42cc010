#include "tests/support/skip.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

namespace imgbuild::testing {
namespace {
std::atomic<bool> skipped{false};
}

bool skip(std::string_view reason) {
  const char* ci = std::getenv("CI");
  if (ci != nullptr && *ci != '\0' && std::string_view(ci) != "0" &&
      std::string_view(ci) != "false") {
    FAIL("cannot run under CI: " << reason << " (CI installs every test dependency)");
  }
  WARN("SKIPPED: " << reason);
  skipped = true;
  return false;
}

bool any_skipped() { return skipped.load(); }

}  // namespace imgbuild::testing
