// The Catch2 main of every test executable: exit code 77 (CTest's "skipped") when a test skipped
// and none failed (tests/support/skip.h).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "tests/support/skip.h"

int main(int argc, char* argv[]) {
  int failed = Catch::Session().run(argc, argv);
  if (failed == 0 && imgbuild::testing::any_skipped()) return 77;
  return failed;
}
