// The form an image leaves the machine in: `push`, `save` and `build --push`.
//
// Builds commit layers as uncompressed tar blobs (application/vnd.oci.image.layer.v1.tar, digest =
// diff ID); compression happens here, when bytes leave. prepare_distribution() returns the image
// with each uncompressed layer replaced by its compressed variant: found in the store
// (image/layer_variants.h) or made now, from the tar blob, in parallel across layers, checked
// against the diff ID and recorded, so the next push or save of the same layer compresses
// nothing. Layers that are already compressed (pulled ones keep their registry blob) stay as they
// are, whatever `compression` says, as with Docker. Compression is deterministic
// (compression_writer.h), so the same layers give the same blobs and the same manifest in any
// store.
//
// When something was replaced, the result has a new OCI manifest (same config, so the image ID is
// unchanged), stored as a blob (unreferenced: the next prune drops it) so push and save read it
// like any other; manifest_digest then differs from the local image's, as with Docker. Otherwise
// the image is returned as it was. With Compression::kNone nothing is compressed. With
// Compression::kEstargz every layer that is not eStargz yet is converted, pulled ones included, and
// the image gets a new config (image/estargz_conversion.h).
//
// The caller holds a Store::Lease across this call and its use of the result. Thread-safe.
// Errors: kCorrupt when a tar blob does not hash to its diff ID, kNotFound for a missing blob,
// kIo from the filesystem; each names the layer.
#pragma once

#include <string_view>

#include "base/error.h"
#include "image/compression.h"
#include "image/store.h"

namespace imgbuild::image {

struct DistributionOptions {
  Compression compression = Compression::kGzip;
  int parallel = 2;  // layers compressed at once
};

Result<Image> prepare_distribution(const Store& store, const Image& image,
                                   const DistributionOptions& options);

// A plain tar layer (OCI or Docker media type): what prepare_distribution compresses.
bool is_uncompressed_layer(std::string_view media_type);

// The layers as they leave the machine: each uncompressed one replaced by its compressed variant
// (found or made, as above), the others as they are; parallel to `layers`. For the build cache
// export (builder/cache_registry.h), whose blobs are then the pushed image's. Not for kEstargz
// (kInvalidArgument: its layers have diff IDs of their own).
Result<std::vector<Descriptor>> distribution_layers(const Store& store,
                                                    const std::vector<Descriptor>& layers,
                                                    const std::vector<Digest>& diff_ids,
                                                    const DistributionOptions& options);

}  // namespace imgbuild::image
