#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/terminal_text.h"

namespace imgbuild::log {

static Level initial_level() {
  const char* env = std::getenv("IMGBUILD_LOG");
  if (env == nullptr) return Level::kWarn;
  if (std::strcmp(env, "debug") == 0) return Level::kDebug;
  if (std::strcmp(env, "info") == 0) return Level::kInfo;
  if (std::strcmp(env, "error") == 0) return Level::kError;
  return Level::kWarn;
}

static std::atomic<int>& current() {
  static std::atomic<int> level{static_cast<int>(initial_level())};
  return level;
}

void set_level(Level l) { current().store(static_cast<int>(l)); }
Level level() { return static_cast<Level>(current().load()); }
bool enabled(Level l) { return static_cast<int>(l) <= current().load(); }

// Debug lines carry the time since the process started, so `-D` doubles as a coarse profile.
static const auto kStart = std::chrono::steady_clock::now();

void write(Level l, std::string_view message) {
  if (!enabled(l)) return;
  static constexpr const char* kPrefix[] = {"error: ", "warning: ", "", "debug: "};
  std::string line = kPrefix[static_cast<int>(l)];
  if (l == Level::kDebug) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - kStart)
                  .count();
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "+%lld.%03lld ms: ", static_cast<long long>(us / 1000),
                  static_cast<long long>(us % 1000));
    line += stamp;
  }
  // Messages repeat their input (paths, references, registry answers): no raw control
  // characters on the terminal.
  line += escape_control_chars(message);
  line += '\n';
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace imgbuild::log
