// Reading an eStargz layer where it lies, on the registry, with HTTP Range requests: the footer
// and the TOC first (verified against the layer's TOC digest annotation before anything is
// trusted), then single chunks (verified against their TOC digest before they are returned).
// What a lazy mount (issue 15) fetches instead of whole layers.
//
// A registry that ignores Range (200 with the whole blob) gets kUnsupported, so a caller falls
// back to pulling the layer whole. Errors name the blob: kCorrupt for a footer, TOC or chunk that
// fails verification, kNetwork/kRegistry from the session. Thread-safe as far as the Session is.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/estargz_index.h"
#include "registry-client/session.h"

namespace imgbuild::registry {

// Given the blob's bytes a fetch transferred, at their offsets in the blob, once they checked out:
// what a lazy mount keeps for a later pull (image/partial_blob.h).
using BlobBytesSink = std::function<void(int64_t offset, std::string_view bytes)>;

// The layer's indexed TOC. `fetched`, if given, is increased by the bytes transferred; `keep`
// gets the footer and the TOC's gzip member.
Result<image::EstargzIndex> fetch_estargz_index(Session& session, const image::Descriptor& layer,
                                                int64_t* fetched = nullptr,
                                                const BlobBytesSink& keep = {});

// One chunk's file bytes. `keep` gets the chunk's gzip member.
Result<std::string> fetch_estargz_chunk(Session& session, const image::Digest& blob,
                                        const image::EstargzChunk& chunk,
                                        int64_t* fetched = nullptr, const BlobBytesSink& keep = {});

}  // namespace imgbuild::registry
