// TarSplitter: walks a plain tar stream entry by entry and hands out its exact bytes: each
// entry's header blocks (PAX and GNU extension headers included) as they are, then its data, then
// its padding, then everything from the end-of-archive marker on. Concatenating what it returns
// gives the input back byte for byte, so a writer that re-frames a layer (image/estargz_writer.h)
// keeps its uncompressed content, while the parsed header tells it what each entry is.
//
// Unlike TarReader (libarchive) this sees the bytes, not just the meaning; it parses only what a
// table of contents needs: ustar, PAX local headers (path, linkpath, size, uid, gid, uname,
// gname, mtime, SCHILY.xattr.*) and GNU long names. PAX global headers are passed through
// without an entry; GNU sparse files are refused (kUnsupported). Names are not validated.
//
// Not thread-safe. Errors: kCorrupt naming the entry for a malformed header or a truncated
// stream; the input's own errors (decompression, kIo) as they come.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/sha256.h"
#include "image/compression_reader.h"
#include "image/digest.h"
#include "image/tar_reader.h"

namespace imgbuild::image {

struct SplitTarEntry {
  TarHeader header;  // type kRegular also for '7' (contiguous) entries
  std::string uname;
  std::string gname;
  std::string raw_header;  // every 512-byte header block of the entry, extension headers included
};

class TarSplitter {
 public:
  // Reads `input` (not owned) from where it is.
  explicit TarSplitter(DecompressReader& input) : input_(input) {}

  // The next entry, or nullopt at the end-of-archive marker (or the end of the stream). The
  // previous entry's data and padding must have been read.
  Result<std::optional<SplitTarEntry>> next();
  // Up to `max` bytes of the current entry's data; empty when all of it has been read.
  Result<std::string_view> read_data(size_t max);
  // The current entry's padding to the 512-byte boundary, after its data.
  Result<std::string_view> read_padding();
  // After next() returned nullopt: the end-of-archive blocks and anything after them, a piece at
  // a time; empty at the end of the stream.
  Result<std::string_view> read_tail();
  // sha256 of every byte handed out so far: after read_tail() returned empty, the tar's diff ID.
  Digest digest() { return Digest::from_hex(sha_.finish_hex()); }

 private:
  Result<bool> fill(size_t n);  // false: the stream ended before n bytes were buffered
  std::string_view take(size_t n);
  Result<std::string> read_extension(int64_t size, std::string& raw);

  DecompressReader& input_;
  std::string buf_;
  size_t pos_ = 0;
  bool input_done_ = false;
  Sha256 sha_;
  int64_t data_left_ = 0;
  size_t padding_left_ = 0;
  std::string current_;  // name of the current entry, for errors
};

}  // namespace imgbuild::image
