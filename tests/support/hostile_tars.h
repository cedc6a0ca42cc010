// The hostile-tar corpus (testdata/hostile-tars/make-hostile-tars.py), generated once per test
// executable into a temporary directory that lives until the process exits. Every case is
// "<dir>/<name>.tar"; the layer extractor's and ADD's tests run the same cases.
#pragma once

#include <string>

namespace imgbuild::testing {

const std::string& hostile_tar_dir();

}  // namespace imgbuild::testing
