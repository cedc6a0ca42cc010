// A build's --cache-from and --cache-to (builder/cache_spec.h): the caches imported before the
// build and exported after it, local (builder/cache_layout.h) or registry
// (builder/cache_registry.h). A cache that cannot be imported (missing, unreachable,
// unauthorized, not an imgbuild cache) is a warning and the build runs without it, as BuildKit
// does; a failed export is an error naming the flag.
#pragma once

#include <vector>

#include "base/error.h"
#include "builder/build_engine.h"
#include "builder/cache_registry.h"
#include "builder/cache_spec.h"
#include "builder/progress.h"
#include "image/store.h"

namespace imgbuild::cli {

// Returns true when a registry cache was imported: the build then pulls its FROM images without
// their layers (registry::LayerPolicy::kLeaveRemote), fetched only if a step needs them.
bool import_build_caches(const image::Store& store, const std::vector<builder::CacheSpec>& specs,
                         const builder::RegistryCacheOptions& options, builder::Progress& progress);

Status export_build_caches(const image::Store& store, const std::vector<builder::CacheSpec>& specs,
                           const builder::BuildResult& result,
                           const builder::RegistryCacheOptions& options,
                           builder::Progress& progress);

}  // namespace imgbuild::cli
