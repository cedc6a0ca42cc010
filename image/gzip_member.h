// Inflating one gzip member held in memory: what a lazy reader does with the bytes of an eStargz
// chunk or TOC fetched by Range (image/estargz_toc.h). Stops at the member's end (trailing bytes,
// such as the next member, are ignored) and checks its CRC. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/error.h"

namespace imgbuild::image {

// The plain bytes of the gzip member at the start of `data`, at most max_out of them (kLimit past
// that). kCorrupt, naming `what`, when the data is not a whole valid gzip member.
Result<std::string> gunzip_member(std::string_view data, size_t max_out, std::string_view what);

}  // namespace imgbuild::image
