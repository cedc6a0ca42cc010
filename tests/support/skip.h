// Honest skips. A test that cannot run here (not root, no /dev/fuse, a peer tool missing) calls
// skip(reason): the reason is printed, and the test executable exits with 77 at the end, which
// CTest (SKIP_RETURN_CODE, set for every test in cmake/modules.cmake) reports as "skipped" rather
// than "passed". Under CI=true a skip is a failure: CI installs everything the tests need, so a
// skip there means a test silently stopped testing.
#pragma once

#include <string_view>

namespace imgbuild::testing {

// Marks the running test case skipped (fails it under CI=true). Returns false, so gates read
// `if (!have_fuse()) return;` with `return skip("...")` inside the gate.
bool skip(std::string_view reason);
// Whether anything was skipped in this run (catch_main.cpp turns that into exit code 77).
bool any_skipped();

}  // namespace imgbuild::testing
