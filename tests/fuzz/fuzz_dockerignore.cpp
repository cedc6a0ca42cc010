// Fuzzes .dockerignore parsing and matching: the input is the ignore file, and each of its
// lines is also tried as a path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "builder/dockerfile/dockerignore.h"

namespace df = imgbuild::builder::dockerfile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto matcher = df::IgnoreMatcher::parse(text);
  if (!matcher) return 0;
  size_t pos = 0;
  int tried = 0;
  while (pos < text.size() && tried < 64) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string path(text.substr(pos, nl - pos));
    (void)matcher->excluded(path);
    (void)matcher->may_include_below(path);
    pos = nl + 1;
    ++tried;
  }
  (void)matcher->excluded("a/b/c.txt");
  (void)df::glob_match(text.substr(0, 64), "abc");
  return 0;
}
