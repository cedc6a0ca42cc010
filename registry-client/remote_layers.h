// Fetching the layers an image left on a registry (image/remote_blobs.h): a build that took steps
// from a registry cache, or a metadata-only pull. Each layer whose blob the store lacks is fetched
// from its most recent recorded source, with pull's verification and extraction (layer_fetch.h);
// layers from one repository go over one connection, in parallel. Credentials, TLS and retries as
// a pull (ClientOptions). Errors: kNotFound naming the layer when its blob is missing and no
// source is recorded; fetch errors (naming the blob) with "fetching layers from <registry>/<repo>"
// context.
#pragma once

#include <vector>

#include "base/error.h"
#include "image/store.h"
#include "registry-client/client.h"
#include "registry-client/layer_fetch.h"

namespace imgbuild::registry {

// Returns the number of blobs downloaded (0 when every blob was present).
Result<int> fetch_remote_layers(const image::Store& store, const std::vector<LayerJob>& layers,
                                const ClientOptions& options);

// Every layer of the image, so it can be mounted, run, saved or exported.
Result<int> complete_image(const image::Store& store, const image::Image& image,
                           const ClientOptions& options);

}  // namespace imgbuild::registry
