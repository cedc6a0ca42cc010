// Fuzzes the eStargz TOC reader and index (image/estargz_toc.h, image/estargz_index.h): the input
// is TOC JSON from a registry, untrusted. Either may refuse it, with kCorrupt only; what the index
// accepts keeps its promises: every name clean (no "..", no "." or empty component), every chunk
// list tiling its file from 0 to its size within the blob, every listed child found by lookup.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "image/estargz_index.h"
#include "image/estargz_toc.h"

using namespace imgbuild;
using namespace imgbuild::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto toc = estargz::parse_toc(json, "TOC");
  if (!toc) {
    if (toc.error().kind() != ErrorKind::kCorrupt) std::abort();
    return 0;
  }
  constexpr int64_t kTocOffset = 1 << 20;
  auto index = EstargzIndex::build(std::move(*toc), kTocOffset);
  if (!index) {
    if (index.error().kind() != ErrorKind::kCorrupt) std::abort();
    return 0;
  }
  for (const auto* e : index->entries()) {
    std::string name = EstargzIndex::clean(e->name);
    if (name == ".." || name.starts_with("../") || name.find("/../") != std::string::npos ||
        name.ends_with("/..") || name.find("//") != std::string::npos) {
      std::abort();
    }
    if (index->lookup(name) == nullptr) std::abort();
    int64_t end = 0;
    for (const auto& chunk : index->chunks(name)) {
      if (chunk.file_offset != end || chunk.size <= 0) std::abort();
      if (chunk.blob_offset < 0 || chunk.blob_end > kTocOffset ||
          chunk.blob_offset >= chunk.blob_end) {
        std::abort();
      }
      end += chunk.size;
    }
    if (!index->chunks(name).empty() && end != e->size) std::abort();
    for (const auto* child : index->children(name)) {
      if (index->lookup(EstargzIndex::clean(child->name)) != child) std::abort();
    }
  }
  return 0;
}
