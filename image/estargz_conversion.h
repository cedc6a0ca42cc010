// An image's layers as eStargz, for `push`/`save`/`build --push` with `--compression estargz`
// (image/distribution.h calls this). Each layer that is not eStargz yet (no TOC digest
// annotation) is converted from its blob, whatever its compression, in parallel across layers,
// checked against its diff ID, and remembered as the layer's eStargz variant
// (image/layer_variants.h), so the next push converts nothing.
//
// An eStargz blob decompresses to the tar plus its TOC, so the converted layers have new diff IDs:
// the result has a new config (new image ID; history and everything else as they were) and a new
// OCI manifest, both stored as unreferenced blobs (the next prune drops them), as
// prepare_distribution does. An image whose layers are all eStargz already is returned as it was.
//
// The caller holds a Store::Lease. Errors name the layer: kCorrupt when a blob does not hash to
// its diff ID, kNotFound for a missing blob, the writer's errors (image/estargz_writer.h).
#pragma once

#include "base/error.h"
#include "image/store.h"

namespace imgbuild::image {

Result<Image> convert_to_estargz(const Store& store, const Image& image, int parallel);

}  // namespace imgbuild::image
