// Fuzzes word expansion: the first byte picks the lexer options, the rest is the word.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "builder/dockerfile/shell_lexer.h"

namespace df = imgbuild::builder::dockerfile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  df::LexOptions options;
  uint8_t mode = data[0];
  options.escape = (mode & 1) ? '`' : '\\';
  options.raw_quotes = mode & 2;
  options.raw_escapes = mode & 4;
  options.skip_process_quotes = mode & 8;
  options.skip_unset_env = mode & 16;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  static const df::EnvLookup env =
      df::env_lookup({{"A", "hello world"}, {"P", "/usr/local/bin"}, {"E", ""}, {"N", "a\nb*c?d"}});
  (void)df::expand(text, env, options);
  return 0;
}
