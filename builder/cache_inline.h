// The inline build cache: `build --cache-to type=inline` writes the cache records of the target
// stage's steps into the image config (as BuildKit's BUILDKIT_INLINE_CACHE does), so that
// `--cache-from IMAGE_REF` on a previously pushed image makes its steps CACHED. A record names
// its layer by position in the image, so it holds whatever blob the image was pushed with.
//
//   config top-level key "imgbuild.cache.v1":
//     {"records": [{"key": "<hex>", "empty_layer": false, "created": "...", "layer": 2}, ...]}
//     sorted by key; "layer" is absent for an empty_layer record.
//
// The records change the config, hence the image ID, as BuildKit's inline cache does.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "builder/build_cache.h"
#include "builder/cache_document.h"
#include "image/descriptor.h"
#include "image/digest.h"

namespace imgbuild::builder {

inline constexpr std::string_view kInlineCacheKey = "imgbuild.cache.v1";

// The value for kInlineCacheKey; records whose layer is not among diff_ids are left out.
nlohmann::json make_inline_cache(std::vector<CacheRecord> records,
                                 const std::vector<image::Digest>& diff_ids);

// The records of an image config (already parsed), their layers taken from the image's manifest
// layers and the config's diff IDs. kInvalidArgument "not an imgbuild cache" when the config
// holds no inline records.
Result<CacheRecords> parse_inline_cache(const nlohmann::json& config,
                                        const std::vector<image::Descriptor>& layers,
                                        std::string_view where);

}  // namespace imgbuild::builder
