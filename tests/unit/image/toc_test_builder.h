// A TOC written by hand for index and skeleton tests: each regular file with bytes is one chunk
// of its own 10-byte member (offsets 0, 10, 20, ...) with a well-formed digest.
#pragma once

#include <cstdint>
#include <string>

#include "image/estargz_toc.h"

namespace imgbuild::image::testing {

struct TocBuilder {
  estargz::Toc toc;
  int64_t offset = 0;

  estargz::TocEntry& add(std::string name, std::string type, int64_t size = 0,
                         std::string link = "") {
    estargz::TocEntry e;
    e.name = std::move(name);
    e.type = std::move(type);
    e.size = size;
    e.link_name = std::move(link);
    if (size > 0) {
      e.offset = offset;
      offset += 10;
      e.chunk_digest = "sha256:" + std::string(64, '0');
    }
    toc.entries.push_back(std::move(e));
    return toc.entries.back();
  }
};

}  // namespace imgbuild::image::testing
