// The eStargz table of contents (TOC): the JSON document `stargz.index.json` at the end of an
// eStargz layer, listing every tar entry and, for regular files, where each chunk of their data
// starts in the blob (the offset of a gzip member) and its digest. Field names and meanings are
// those of containerd/stargz-snapshotter's estargz package (JTOC/TOCEntry), so its readers and
// ours read the same layers. The constants name the spec's fixed strings.
//
// serialize_toc() is deterministic (keys sorted, compact, no trailing newline); the TOC digest
// that goes into the layer annotation is the sha256 of exactly those bytes. parse_toc() reads
// untrusted JSON: kCorrupt naming the field.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::image::estargz {

inline constexpr std::string_view kTocName = "stargz.index.json";
inline constexpr std::string_view kTocDigestAnnotation = "containerd.io/snapshot/stargz/toc.digest";
inline constexpr std::string_view kUncompressedSizeAnnotation =
    "io.containers.estargz.uncompressed-size";
inline constexpr std::string_view kPrefetchLandmark = ".prefetch.landmark";
inline constexpr std::string_view kNoPrefetchLandmark = ".no.prefetch.landmark";
inline constexpr int64_t kFooterSize = 51;
inline constexpr int64_t kDefaultChunkSize = 4 << 20;

struct TocEntry {
  std::string name;
  std::string type;     // dir, reg, symlink, hardlink, char, block, fifo, chunk
  int64_t size = 0;     // reg: the file's size
  std::string modtime;  // RFC 3339 UTC, empty for the epoch
  std::string link_name;
  int64_t mode = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  std::string user_name;  // only where it changes for the uid (as the Go writer does)
  std::string group_name;
  int64_t offset = 0;        // reg/chunk: blob offset of the gzip member holding this chunk
  int64_t inner_offset = 0;  // reg/chunk: uncompressed offset of the chunk inside that member
  int64_t chunk_offset = 0;  // reg/chunk: offset of this chunk in the file
  int64_t chunk_size = 0;    // reg/chunk: 0 in the last chunk means "to the end of the file"
  std::string digest;        // reg: sha256 of the whole file
  std::string chunk_digest;  // reg/chunk: sha256 of this chunk
  int64_t dev_major = 0;
  int64_t dev_minor = 0;
  std::map<std::string, std::string> xattrs;  // raw values (base64 in the JSON)
};

struct Toc {
  int version = 1;
  std::vector<TocEntry> entries;
};

std::string serialize_toc(const Toc& toc);
Result<Toc> parse_toc(std::string_view json, std::string_view what);

// The 51-byte footer: an empty gzip member whose extra field holds "%016xSTARGZ" with the blob
// offset of the TOC's gzip member.
std::string make_footer(int64_t toc_offset);
// The TOC offset from a footer; kCorrupt when the bytes are not an eStargz footer.
Result<int64_t> parse_footer(std::string_view footer);

}  // namespace imgbuild::image::estargz
