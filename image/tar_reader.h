// TarReader: parses a layer's tar stream (plain, gzip, zstd, xz or bzip2; detected) with
// libarchive's tar parser (ustar, PAX, GNU long names and sparse files) fed by our own
// decompressor, hashing every plain byte on the way, so diff_id() is the sha256 of the whole
// uncompressed stream, including anything after the end-of-archive marker.
//
// It only parses: names are returned exactly as stored, unvalidated (the extractor decides what
// is safe). Not thread-safe. Errors: kCorrupt naming what libarchive or the decompressor found
// ("Truncated tar archive", "gzip: truncated stream"), kIo when reading the fd fails.
#pragma once

#include <archive.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/sha256.h"
#include "image/compression_reader.h"
#include "image/digest.h"
#include "image/tar_writer.h"

namespace imgbuild::image {

struct TarHeader {
  std::string path;
  TarEntry::Type type = TarEntry::Type::kRegular;
  uint32_t mode = 0;  // permission bits including setuid/setgid/sticky
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;
  int64_t mtime = 0;
  long mtime_nsec = 0;
  std::string linkname;
  uint32_t devmajor = 0;
  uint32_t devminor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// One run of file data at an offset (sparse files have gaps between runs).
struct TarDataBlock {
  int64_t offset = 0;
  std::string_view data;  // empty at the end of the entry
};

class TarReader {
 public:
  // blob_fd is read from its current offset and not closed.
  static Result<std::unique_ptr<TarReader>> open(int blob_fd);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  StreamFormat format() const { return input_->format(); }
  // The next header, or nullopt at the end of the archive. kUnsupported for entry types a layer
  // cannot hold (sockets); the message names the entry.
  Result<std::optional<TarHeader>> next();
  // The current entry's data, block by block.
  Result<TarDataBlock> read_block();
  // Reads the rest of the stream and returns the sha256 of all uncompressed bytes.
  Result<Digest> finish();

 private:
  explicit TarReader(std::unique_ptr<DecompressReader> input) : input_(std::move(input)) {}
  static la_ssize_t read_cb(struct archive* a, void* self, const void** buf);
  Error archive_error(std::string_view what) const;

  std::unique_ptr<DecompressReader> input_;
  struct archive* a_ = nullptr;
  Sha256 sha_;
  std::optional<Error> input_error_;  // a read/decompression error seen inside read_cb
  bool at_end_ = false;
  std::string current_;
};

}  // namespace imgbuild::image
