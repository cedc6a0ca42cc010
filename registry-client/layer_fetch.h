// Fetching an image's layers into the store: each missing blob downloads on one of
// ClientOptions::parallel threads and is extracted as it arrives (image::StreamingUnpack), the
// layer directory adopted only once both the blob digest and the tar's diff ID check out. A job
// whose blob and layer are both present is skipped ("Already exists"); one with only the blob is
// unpacked from it. A blob a lazy mount fetched in part (image/partial_blob.h) is assembled from
// those bytes and Range requests for the rest; if it fails its digest check, the partial blob is
// deleted (with a warning) and the blob downloaded whole once; once the blob is in, the partial
// blob is deleted. The first real error cancels the rest. Used by pull (pull.h) and by the
// fetch of layers an image left on a registry (remote_layers.h).
#pragma once

#include <vector>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/digest.h"
#include "image/store.h"
#include "registry-client/client.h"
#include "registry-client/session.h"

namespace imgbuild::registry {

struct LayerJob {
  image::Descriptor blob;
  image::Digest diff_id;
};

// Returns the number of blobs downloaded.
Result<int> fetch_layers(Session& session, const image::Store& store,
                         const std::vector<LayerJob>& jobs, const ClientOptions& options);

}  // namespace imgbuild::registry
