#include "tests/support/hostile_tars.h"

#include <catch2/catch.hpp>
#include <optional>

#include "base/fs.h"
#include "base/subprocess.h"

namespace imgbuild::testing {

const std::string& hostile_tar_dir() {
  static std::optional<fs::TempDir> dir;
  if (!dir) {
    auto d = fs::TempDir::create("/tmp", "imgbuild-hostile-corpus-");
    REQUIRE(d);
    auto r = run_process(
        {"python3", IMGBUILD_TESTDATA_DIR "/hostile-tars/make-hostile-tars.py", d->path()});
    REQUIRE(r);
    INFO(r->err);
    REQUIRE(r->exit_code == 0);
    dir = std::move(*d);
  }
  return dir->path();
}

}  // namespace imgbuild::testing
