// The busybox base image the integration tests build on: a rootfs tar made from Debian's
// busybox-static by testdata/make-busybox-rootfs.sh, imported into a store with `imgbuild import`.
// Aborts the test (REQUIRE) when either step fails, with imgbuild's stderr as context.
#pragma once

#include <string>

namespace imgbuild::testing {

// Makes `tar` unless it exists, then imports it into the store at store_root as ref.
void import_busybox(const std::string& store_root, const std::string& ref, const std::string& tar);

}  // namespace imgbuild::testing
