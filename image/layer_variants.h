// Compressed variants of layers: which blob holds a layer (by diff ID) compressed with gzip or
// zstd. Built layers are stored as uncompressed tars; push and save compress them
// (image/distribution.h) and record the result here, so the next push or save of the same layer
// compresses nothing. On disk: <root>/variants/sha256/<diff id hex>.<gzip|zstd>, the compact
// JSON descriptor of a blob in blobs/ (docs/store_format.md).
//
// GC (Store::prune) keeps a record and its blob while the layer's diff ID is live and deletes the
// other records. A caller that records a variant holds a Store::Lease from writing the blob until
// the record is written. Thread-safe; records are replaced atomically.
#pragma once

#include <optional>

#include "base/error.h"
#include "image/compression.h"
#include "image/descriptor.h"
#include "image/digest.h"
#include "image/store.h"

namespace imgbuild::image {

// The recorded variant when there is one whose blob is present; nullopt otherwise (also for
// kNone: an uncompressed layer's blob is the tar itself, digest = diff ID).
std::optional<Descriptor> find_layer_variant(const Store& store, const Digest& diff_id,
                                             Compression compression);
// Records blob (already in blobs/) as diff_id compressed with `compression` (not kNone).
Status record_layer_variant(const Store& store, const Digest& diff_id, Compression compression,
                            const Descriptor& blob);

// eStargz variants (<diff id hex>.estargz) differ: the eStargz blob decompresses to the tar plus
// its TOC (image/estargz_writer.h), so it has a diff ID of its own, recorded beside the
// descriptor (which carries the TOC digest and uncompressed size annotations).
struct EstargzVariant {
  Descriptor blob;
  Digest diff_id;  // of the eStargz blob's uncompressed stream
};
std::optional<EstargzVariant> find_estargz_variant(const Store& store, const Digest& diff_id);
Status record_estargz_variant(const Store& store, const Digest& diff_id,
                              const EstargzVariant& variant);

}  // namespace imgbuild::image
