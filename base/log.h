// Logging to stderr. Level from IMGBUILD_LOG (error|warn|info|debug) or set_level(); default warn.
// Control characters in messages are written escaped (base/terminal_text.h).
// Thread-safe: each line is written with one write(2). Never log secrets.
#pragma once

#include <string>
#include <string_view>

namespace imgbuild::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void set_level(Level level);
Level level();
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void error(std::string_view m) { write(Level::kError, m); }
inline void warn(std::string_view m) { write(Level::kWarn, m); }
inline void info(std::string_view m) {
  if (enabled(Level::kInfo)) write(Level::kInfo, m);
}
inline void debug(std::string_view m) {
  if (enabled(Level::kDebug)) write(Level::kDebug, m);
}

}  // namespace imgbuild::log
