#include "tests/support/busybox_image.h"

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/subprocess.h"

namespace imgbuild::testing {

void import_busybox(const std::string& store_root, const std::string& ref, const std::string& tar) {
  if (!fs::exists(tar)) {
    auto made =
        run_process({std::string(IMGBUILD_TESTDATA_DIR) + "/make-busybox-rootfs.sh", "--tar", tar});
    REQUIRE(made);
    INFO(made->err);
    REQUIRE(made->exit_code == 0);
  }
  auto imported = run_process({IMGBUILD_BINARY, "--root", store_root, "import", tar, ref});
  REQUIRE(imported);
  INFO(imported->err);
  REQUIRE(imported->exit_code == 0);
}

}  // namespace imgbuild::testing
