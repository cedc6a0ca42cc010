#include "containers_fixture.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "tests/support/skip.h"

namespace imgbuild::containers::testing {

bool cannot_run() {
  if (::geteuid() == 0) return false;
  ::imgbuild::testing::skip("container tests need root");
  return true;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace imgbuild::containers::testing
