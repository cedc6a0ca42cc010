// BlobCompressor: the tail of the layer pipeline. Bytes written to it are compressed (gzip, zstd,
// or none), hashed (the blob digest) and written to an fd the caller owns; finish() flushes and
// returns the digest and size of what reached the fd. Memory use is bounded whatever the input.
//
// gzip is compressed in parallel (pigz's scheme: fixed 128 KiB blocks, each primed with the
// previous 32 KiB as dictionary and ended with a sync flush, concatenated into one gzip member).
// The output depends only on the input and the level, never on the number of threads, so layers
// stay reproducible. zstd uses libzstd's own worker threads (ZSTD_c_nbWorkers), whose output is
// likewise independent of the worker count.
//
// One thread at a time calls write()/finish(); worker threads are owned and joined by the object.
// Errors: kIo when writing to the fd fails, kInternal when a compressor library fails. After an
// error the object is spent.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "base/error.h"
#include "image/compression.h"
#include "image/digest.h"

namespace imgbuild::image {

struct CompressedBlob {
  Digest digest;
  int64_t size = 0;
};

class BlobCompressor {
 public:
  // level -1 picks the default (gzip 6, zstd 3). threads 0 means one per online CPU.
  static Result<std::unique_ptr<BlobCompressor>> create(Compression compression, int out_fd,
                                                        int level = -1, int threads = 0);
  virtual ~BlobCompressor() = default;

  virtual Status write(std::string_view data) = 0;
  virtual Result<CompressedBlob> finish() = 0;
};

// Bytes of gzip or zstd output every BlobCompressor of this process has produced so far (plain
// "none" output is not counted). A debug statistic (`-D` prints it when a command ends) and the
// hook tests use to check that a build compresses nothing. Thread-safe.
uint64_t compressed_bytes_produced();

}  // namespace imgbuild::image
