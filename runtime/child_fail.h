// Failure reporting for code between clone() and exec(): formats "op subject ..." into a fixed
// buffer, writes one ChildReport to the report pipe and _exits. No allocation.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <initializer_list>

#include "base/eintr.h"
#include "runtime/child.h"

namespace imgbuild::runtime::child {

// The report fd, set once at the start of child_main (the child is single-threaded).
inline int g_report_fd = -1;

[[noreturn]] inline void die_with(int stage, int err, std::initializer_list<const char*> parts) {
  ChildReport report;
  report.stage = stage;
  report.err = err;
  size_t n = 0;
  for (const char* p : parts) {
    for (; p != nullptr && *p != '\0' && n + 1 < sizeof report.what; ++p) report.what[n++] = *p;
  }
  report.what[n] = '\0';
  // Raw write (no Result, no allocation: we are between clone and exec); retry_eintr is inline.
  (void)sys::retry_eintr([&] { return ::write(g_report_fd, &report, sizeof report); });
  ::_exit(stage == ChildReport::kExec ? 127 : 125);
}

// Reports errno with the message parts and exits.
[[noreturn]] inline void die(std::initializer_list<const char*> parts) {
  die_with(ChildReport::kSetup, errno, parts);
}

}  // namespace imgbuild::runtime::child
