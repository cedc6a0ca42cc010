// ByteRanges: a set of byte offsets as sorted, disjoint, non-adjacent half-open ranges
// [begin, end), merged as they are added. What a partial blob (image/partial_blob.h) holds, and
// how a pull walks it. A value type; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace imgbuild::image {

struct ByteRange {
  int64_t begin = 0;
  int64_t end = 0;  // exclusive
  bool operator==(const ByteRange&) const = default;
};

class ByteRanges {
 public:
  // Adds [begin, end), merging it with the ranges it overlaps or touches; empty ranges are
  // ignored.
  void add(int64_t begin, int64_t end);
  const std::vector<ByteRange>& ranges() const { return ranges_; }
  bool empty() const { return ranges_.empty(); }
  // The number of bytes in the set.
  int64_t total() const;
  // The range holding `offset`, if any.
  std::optional<ByteRange> covering(int64_t offset) const;
  // The first offset at or after `offset` that is in the set, or `limit` when there is none
  // before it: where a gap starting at `offset` ends.
  int64_t next_present(int64_t offset, int64_t limit) const;

 private:
  std::vector<ByteRange> ranges_;
};

}  // namespace imgbuild::image
