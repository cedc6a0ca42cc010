#include "image/byte_ranges.h"

#include <algorithm>

namespace imgbuild::image {

void ByteRanges::add(int64_t begin, int64_t end) {
  if (end <= begin) return;
  // The first range that ends at or after begin: it and those after it that start at or before
  // end merge with the new one.
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), begin,
                                [](const ByteRange& r, int64_t b) { return r.end < b; });
  auto last = first;
  while (last != ranges_.end() && last->begin <= end) {
    begin = std::min(begin, last->begin);
    end = std::max(end, last->end);
    ++last;
  }
  auto at = ranges_.erase(first, last);
  ranges_.insert(at, ByteRange{begin, end});
}

int64_t ByteRanges::total() const {
  int64_t n = 0;
  for (const auto& r : ranges_) n += r.end - r.begin;
  return n;
}

std::optional<ByteRange> ByteRanges::covering(int64_t offset) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), offset,
                             [](int64_t o, const ByteRange& r) { return o < r.end; });
  if (it != ranges_.end() && it->begin <= offset) return *it;
  return std::nullopt;
}

int64_t ByteRanges::next_present(int64_t offset, int64_t limit) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), offset,
                             [](int64_t o, const ByteRange& r) { return o < r.end; });
  if (it == ranges_.end()) return limit;
  return std::min(limit, std::max(offset, it->begin));
}

}  // namespace imgbuild::image
