// DecompressReader: reads a possibly compressed stream from an fd the caller owns and yields the
// plain bytes. The format (plain, gzip incl. multi-member, zstd incl. multi-frame, xz, bzip2) is
// detected from the magic bytes. Memory use is bounded. One thread at a time.
//
// Errors: kCorrupt for bad or truncated compressed data ("gzip: truncated stream",
// "zstd: Unknown frame descriptor"), kIo when reading the fd fails.
#pragma once

#include <memory>
#include <string_view>

#include "base/error.h"
#include "image/compression.h"

namespace imgbuild::image {

class DecompressReader {
 public:
  // Reads the first bytes of fd to detect the format.
  static Result<std::unique_ptr<DecompressReader>> open(int fd);
  virtual ~DecompressReader() = default;

  StreamFormat format() const { return format_; }
  // The next chunk of plain bytes, valid until the next call; empty at the end of the stream.
  virtual Result<std::string_view> next() = 0;

 protected:
  explicit DecompressReader(StreamFormat format) : format_(format) {}

 private:
  StreamFormat format_;
};

}  // namespace imgbuild::image
