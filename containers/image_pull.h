// Pulling the image of `run`, `create` and `mount` as Docker does: `--pull missing` (default)
// pulls only when the store has no such image, `always` pulls every time (the registry's current
// image for the tag), `never` refuses a missing image with Docker's "No such image". Layers an
// image left on a registry (a build from a registry cache) are fetched whatever the policy.
//
// An image ID (64 hex digits or "sha256:...") is never pulled. Progress goes to the given
// registry::Progress, including Docker's lines "Unable to find image 'busybox:latest' locally",
// "Digest: sha256:..." and "Status: Downloaded newer image for busybox:latest". Thread-safe as
// registry::pull_image is.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "image/store.h"
#include "registry-client/progress.h"

namespace imgbuild::containers {

enum class PullPolicy { kMissing, kAlways, kNever };

// "missing", "always", "never" (Docker also takes "" for missing); kInvalidArgument otherwise
// with Docker's message.
Result<PullPolicy> parse_pull_policy(std::string_view text);

// The image named `name` in the store, pulled first as the policy says. Errors: kNotFound "No such
// image: busybox:latest" with kNever; pull errors with "pulling <ref>" context.
Result<image::Image> ensure_image(const image::Store& store, const std::string& name,
                                  PullPolicy policy, registry::Progress* progress);

}  // namespace imgbuild::containers
