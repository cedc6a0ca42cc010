// Shared helpers for the runtime integration tests: a busybox root directory made once per test
// process, and running a container with its output captured in files.
#pragma once

#include <string>

#include "runtime/container.h"

namespace imgbuild::runtime::testing {

// A fresh busybox rootfs under a temp dir (removed at exit). Each call makes a new one when
// fresh is true, else returns the shared one.
std::string busybox_rootfs(bool fresh = false);

struct Output {
  int code = -1;
  std::string out, err;
  std::string error;  // start() error message, if any
};

ProcessSpec spec_for(std::vector<std::string> args);
// Container::start + wait, output in temp files.
Output run(const std::string& rootfs, ProcessSpec spec);
// "sh -c script"
Output sh(const std::string& rootfs, const std::string& script, ProcessSpec spec = {});

// True (after a WARN) when the tests cannot run here (not root).
bool cannot_run();

}  // namespace imgbuild::runtime::testing
