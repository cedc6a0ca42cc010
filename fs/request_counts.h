// Requests a mount served, by FUSE opcode: what every callback costs is a round trip through the
// kernel, so these counts are what the FUSE fast paths (passthrough, negative entries, KILLPRIV_V2)
// are measured by (Mount::stats(), `imgfs -o debug_stats`). Counting is one relaxed atomic add per
// request, always on. Thread-safe.
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314  // libfuse 3.14 (Debian 12)
#endif
#include <fuse_lowlevel.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>

namespace imgbuild::fs {

class RequestCounts {
 public:
  static constexpr uint32_t kMaxOpcode = 63;
  void add(uint32_t opcode) {
    counts_[opcode <= kMaxOpcode ? opcode : 0].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t get(uint32_t opcode) const {
    return opcode <= kMaxOpcode ? counts_[opcode].load(std::memory_order_relaxed) : 0;
  }
  // The non-zero counts by the kernel's name of the opcode ("LOOKUP", "CREATE", ...).
  std::map<std::string, uint64_t> by_name() const;

 private:
  std::array<std::atomic<uint64_t>, kMaxOpcode + 1> counts_{};
};

// ops with every callback that takes a request wrapped to count it first in counts_of(req).
// Builds its table once: call with the same ops (and counts_of) every time.
const fuse_lowlevel_ops& counting_ops(const fuse_lowlevel_ops& ops,
                                      RequestCounts& (*counts_of)(fuse_req_t));

// "LOOKUP 1000, CREATE 1000, ..." (most frequent first; "none" when empty).
std::string format_request_counts(const std::map<std::string, uint64_t>& counts);

}  // namespace imgbuild::fs
