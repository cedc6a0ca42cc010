// `build --cache-to` / `--cache-from` values, as BuildKit reads them: a CSV of KEY=VALUE
// ("type=local,dest=DIR,mode=max"), or for --cache-from a bare image reference (Docker's classic
// form, a registry cache). type=local (builder/cache_layout.h) and type=registry
// (builder/cache_registry.h) are implemented; the others parse, so the caller can say by name
// that they are not.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "image/compression.h"

namespace imgbuild::builder {

struct CacheSpec {
  std::string type;  // "local", "registry", "inline", ...
  std::string path;  // local: dest= (to) or src= (from)
  std::string ref;   // registry: ref=, or the bare reference
  bool max = false;  // mode=max: every stage's records, not only the target's
  std::optional<image::Compression> compression;  // compression= (registry); else the build's
};

// direction: "--cache-to" or "--cache-from" (names the flag in errors; decides dest= or src=).
Result<CacheSpec> parse_cache_spec(std::string_view text, std::string_view direction);

}  // namespace imgbuild::builder
