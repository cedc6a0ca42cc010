// Hiding what .dockerignore excludes from a RUN --mount=type=bind of the build context.
//
// BuildKit bind-mounts the context as it was transferred, i.e. without the excluded files. The
// context here is the user's directory itself, so the bind goes through imgfs with one more layer
// on top: whiteouts (".wh.NAME") for the excluded paths BuildContext recorded while it walked the
// context (no second walk), below directories that copy the mode, owner and times of the
// context's own (so the mount shows them unchanged).
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "builder/build_context.h"

namespace imgbuild::builder {

// Writes the whiteout layer for the context directory `rel` ("" = the root) into the existing,
// empty directory `layer_dir`. Returns false when nothing below `rel` is excluded (the layer is
// then empty and not needed).
Result<bool> write_context_mask(const BuildContext& context, std::string_view rel,
                                const std::string& layer_dir);

}  // namespace imgbuild::builder
