// A lazy reader's view of an eStargz layer: its TOC (image/estargz_toc.h) checked and indexed by
// path, with each regular file's chunks resolved to blob byte ranges. A chunk's range runs from
// its gzip member's offset to the next member's offset (or the TOC's), which is what a reader
// fetches with one Range request before inflating it and taking `size` bytes at `inner_offset`.
//
// build() validates everything a hostile TOC could get wrong: names (cleaned; no ".."), chunks that
// do not tile their file from 0 to its size, offsets outside the blob's payload, malformed digests.
// Errors are kCorrupt naming the entry. Directories a name implies but the TOC does not list are
// added (mode 0755, root, the epoch), as tar extraction makes them; a name below a non-directory
// is refused. Immutable after build().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "image/estargz_toc.h"

namespace imgbuild::image {

struct EstargzChunk {
  int64_t file_offset = 0;   // where the chunk's bytes go in the file
  int64_t size = 0;          // bytes of file data in the chunk
  int64_t blob_offset = 0;   // start of its gzip member in the blob
  int64_t blob_end = 0;      // end (exclusive) of the range to fetch
  int64_t inner_offset = 0;  // the chunk's start inside the inflated member
  std::string digest;        // "sha256:..." of the chunk's bytes
};

class EstargzIndex {
 public:
  // toc_offset: where the TOC's gzip member starts (the footer says).
  static Result<EstargzIndex> build(estargz::Toc toc, int64_t toc_offset);
  EstargzIndex(EstargzIndex&&) = default;  // entries() points into the TOC: moves only
  EstargzIndex& operator=(EstargzIndex&&) = default;
  EstargzIndex(const EstargzIndex&) = delete;
  EstargzIndex& operator=(const EstargzIndex&) = delete;

  // The entry for a path ("etc/passwd", "./etc/passwd" and "/etc/passwd" are the same), nullopt
  // when absent. Chunk entries are not returned; "chunk" rows belong to their file.
  const estargz::TocEntry* lookup(std::string_view path) const;
  // A regular file's chunks in file order (empty for an empty file or a non-file).
  const std::vector<EstargzChunk>& chunks(std::string_view path) const;
  // Every entry other than chunks, in TOC order (of a name listed twice, the last).
  const std::vector<const estargz::TocEntry*>& entries() const { return order_; }
  // The entries directly in a directory (cleaned path, "" for the root), in TOC order: O(children).
  const std::vector<const estargz::TocEntry*>& children(std::string_view dir) const;
  // The cleaned names of the hard links whose target is path.
  const std::vector<std::string>& hardlinks_to(std::string_view path) const;
  // The regular files (with bytes) listed before the TOC's .prefetch.landmark entry, in TOC
  // order: what the writer put first for a container's first reads. Empty without a landmark.
  const std::vector<std::string>& prefetch() const { return prefetch_; }
  int64_t toc_offset() const { return toc_offset_; }

  // The cleaned form of a TOC name (no leading "./" or "/", no trailing "/").
  static std::string clean(std::string_view name);

 private:
  EstargzIndex() = default;
  estargz::Toc toc_;
  int64_t toc_offset_ = 0;
  // Looked up by string_view without a copy.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <class T>
  using ByName = std::unordered_map<std::string, T, Hash, std::equal_to<>>;

  ByName<size_t> by_path_;  // cleaned name -> toc_.entries index
  ByName<std::vector<EstargzChunk>> chunks_;
  std::vector<const estargz::TocEntry*> order_;
  ByName<std::vector<const estargz::TocEntry*>> children_;
  ByName<std::vector<std::string>> hardlinks_;
  std::vector<std::string> prefetch_;
};

}  // namespace imgbuild::image
