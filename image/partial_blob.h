// PartialBlob: a layer blob the store holds in part (issue 15). A lazy mount fetches an eStargz
// layer's footer, TOC and the gzip members of the files that are read by HTTP Range; it keeps
// those bytes here, at their offsets in the blob, so a later pull of the layer downloads only
// the rest (registry::fetch_blob copies what is here and requests the gaps). Format
// (docs/store_format.md):
//
//   <root>/lazy/sha256/<hex>.partial  the blob's bytes at their own offsets (a sparse file)
//   <root>/lazy/sha256/<hex>.ranges   which bytes are present: append-only lines
//                                     "<begin> <end> <crc32 of "<begin> <end>", 8 hex>\n"
//
// Bytes are written before their range is recorded. A line that is torn (no newline), garbled
// (its checksum does not match) or outside the blob is ignored: those bytes are fetched again.
// Nothing here is trusted: the pull checks the assembled blob's digest and, on a mismatch, drops
// the partial blob and downloads the layer whole. Bytes are not fsynced: a crash may leave a
// range recorded over zeros, which that digest check catches the same way.
//
// Thread-safe; appends take an exclusive flock on the .ranges file (reads a shared one), so the
// CLI and a mount's server process may add to one blob at once. Errors name the file and errno.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"
#include "image/byte_ranges.h"
#include "image/descriptor.h"
#include "image/digest.h"

namespace imgbuild::image {

class Store;

class PartialBlob {
 public:
  // The blob's partial files, created empty when missing.
  static Result<PartialBlob> create(const Store& store, const Descriptor& blob);
  // The blob's partial files when the store has them, else nullopt.
  static Result<std::optional<PartialBlob>> open(const Store& store, const Descriptor& blob);
  // Removes both files (missing ones are fine). Writers that still hold them write to the
  // unlinked files, which go with their last descriptor.
  static Status remove(const Store& store, const Digest& blob);
  // <root>/lazy/sha256/<hex>.partial and .ranges
  static std::string data_path(const Store& store, const Digest& blob);
  static std::string ranges_path(const Store& store, const Digest& blob);

  // Stores bytes [offset, offset + size) of the blob, then records them as present.
  // kInvalidArgument when they do not lie within the blob.
  Status add(int64_t offset, std::string_view bytes);
  // The ranges recorded so far (valid lines only, within the blob).
  Result<ByteRanges> present() const;
  // Bytes [offset, offset + size) as stored; kCorrupt when the file is shorter.
  Result<std::string> read(int64_t offset, size_t size) const;

  const Descriptor& blob() const { return blob_; }

 private:
  PartialBlob(Descriptor blob, std::string data_path, std::string ranges_path, UniqueFd data,
              UniqueFd ranges)
      : blob_(std::move(blob)),
        data_path_(std::move(data_path)),
        ranges_path_(std::move(ranges_path)),
        data_(std::move(data)),
        ranges_(std::move(ranges)),
        mu_(std::make_unique<std::mutex>()) {}

  Descriptor blob_;
  std::string data_path_;
  std::string ranges_path_;
  UniqueFd data_;
  UniqueFd ranges_;  // O_APPEND
  // flock belongs to the open file description, which this process's threads share: they take
  // this first.
  std::unique_ptr<std::mutex> mu_;
};

// One line of a .ranges file for [begin, end), newline included; and its parse (nullopt for a
// torn or garbled line). Exposed for tests.
std::string partial_range_line(int64_t begin, int64_t end);
std::optional<ByteRange> parse_partial_range_line(std::string_view line);

}  // namespace imgbuild::image
