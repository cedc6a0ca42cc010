// Writing eStargz layers: a layer's tar re-framed so that each regular file's data (in chunks of
// at most 4 MiB) starts a gzip member of its own, followed by a gzip member holding the table of
// contents (image/estargz_toc.h, as tar entry stargz.index.json) and the 51-byte footer pointing
// at it. The blob is an ordinary multi-member gzip stream, so every client pulls it; a lazy reader
// fetches the footer, then the TOC, then only the members of the files it reads.
//
// The layout follows the estargz package of containerd/stargz-snapshotter in its lossless mode:
// the input tar's bytes are kept exactly (headers, padding, end-of-archive marker), so extracting
// the layer gives the same tree, and the TOC tar comes after the end-of-archive marker where tar
// readers no longer look. The uncompressed stream therefore is the input tar plus the TOC tar:
// its diff ID (returned) differs from the input's, so an image converted to eStargz gets a new
// config and image ID (as with ctr-remote and BuildKit). No landmark files are added.
//
// Deterministic: the same tar, level and chunk size give the same blob whatever the thread count
// (members are compressed independently, in parallel, written in order). Memory is bounded by a
// batch of members. Errors: the input's (kCorrupt for a malformed tar or stream, kIo), kIo writing
// out_fd, kUnsupported for an input that already holds a stargz.index.json entry or GNU sparse
// files. On error out_fd holds partial output the caller discards.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/error.h"
#include "image/digest.h"
#include "image/estargz_toc.h"

namespace imgbuild::image {

struct EstargzOptions {
  int level = 6;  // gzip level of every member
  int64_t chunk_size = estargz::kDefaultChunkSize;
  int threads = 0;  // 0: one per online CPU
};

struct EstargzBlob {
  Digest digest;  // of the blob written
  int64_t size = 0;
  Digest diff_id;         // of the blob's uncompressed stream (input tar + TOC tar)
  Digest source_diff_id;  // of the input tar as read
  Digest toc_digest;      // sha256 of the TOC JSON
  int64_t uncompressed_size = 0;
  int64_t toc_offset = 0;

  // The layer descriptor's annotations: TOC digest and uncompressed size.
  std::map<std::string, std::string> annotations() const;
};

// in_fd: a layer blob, plain or compressed (detected), read from its current offset; out_fd is
// written from its current offset. Neither is closed.
Result<EstargzBlob> write_estargz(int in_fd, int out_fd, const EstargzOptions& options = {});

}  // namespace imgbuild::image
