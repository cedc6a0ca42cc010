#include "registry-client/estargz_remote.h"

#include <algorithm>

#include "image/gzip_member.h"
#include "registry-client/blob_transfer.h"

namespace imgbuild::registry {
namespace {

// A TOC larger than this is refused (stargz-snapshotter's own bound is of the same order).
constexpr int64_t kMaxTocBytes = 64 << 20;
constexpr size_t kMaxTocJson = size_t{256} << 20;
// The end of a layer fetched at once for its footer and TOC (see fetch_index).
constexpr int64_t kMinTailBytes = 16 << 10;
constexpr int64_t kMaxTailBytes = 512 << 10;

// Bytes [begin, end) of the blob; kUnsupported when the registry ignores Range.
Result<std::string> fetch_range(Session& session, const image::Digest& blob, int64_t begin,
                                int64_t end, int64_t* fetched) {
  std::string what =
      "blob " + blob.str() + " bytes " + std::to_string(begin) + "-" + std::to_string(end - 1);
  if (begin < 0 || end <= begin) return fail(ErrorKind::kInvalidArgument, what + ": empty range");
  Request req;
  req.target = blob_path(session, blob);
  req.headers.emplace_back("Range",
                           "bytes=" + std::to_string(begin) + "-" + std::to_string(end - 1));
  std::string body;
  int64_t want = end - begin;
  body.reserve(static_cast<size_t>(std::min<int64_t>(want, 16 << 20)));
  bool partial = true;
  req.sink = [&](int status, std::string_view data) -> Status {
    if (status == 200) partial = false;
    if (status != 206 && status != 200) return {};  // an error body: judged below
    if (!partial) return fail(ErrorKind::kUnsupported, what + ": the registry ignores Range");
    if (static_cast<int64_t>(body.size() + data.size()) > want) {
      return fail(ErrorKind::kCorrupt, what + ": the registry sent more than asked for");
    }
    body.append(data);
    return {};
  };
  auto r = session.send(req);
  if (fetched != nullptr) *fetched += static_cast<int64_t>(body.size());
  if (!r) return fail(r.error().with_context(what));
  if (r->status == 200) return fail(ErrorKind::kUnsupported, what + ": the registry ignores Range");
  if (r->status != 206) return fail(session.status_error("GET " + what, *r));
  if (static_cast<int64_t>(body.size()) != want) {
    return fail(ErrorKind::kCorrupt, what + ": got " + std::to_string(body.size()) + " bytes");
  }
  return body;
}

Result<image::EstargzIndex> fetch_index(Session& session, const image::Descriptor& layer,
                                        int64_t* fetched, const BlobBytesSink& keep) {
  std::string expected = layer.annotation(image::estargz::kTocDigestAnnotation);
  if (expected.empty()) {
    return fail(ErrorKind::kUnsupported, "not an eStargz layer (no TOC digest annotation)");
  }
  const int64_t footer_size = image::estargz::kFooterSize;
  if (layer.size <= footer_size) return fail(ErrorKind::kCorrupt, "too small for eStargz");
  // The footer and, usually, the whole TOC in one round trip: the blob's last bytes, a 64th of
  // the layer (within bounds), so a small layer stays cheap to mount. A TOC that starts before
  // them costs a second request, for its beginning only.
  const int64_t tail_begin =
      layer.size -
      std::min(layer.size, footer_size + std::clamp(layer.size / 64, kMinTailBytes, kMaxTailBytes));
  std::string tail = TRY(fetch_range(session, layer.digest, tail_begin, layer.size, fetched));
  std::string footer = tail.substr(tail.size() - static_cast<size_t>(footer_size));
  int64_t toc_offset = TRY(image::estargz::parse_footer(footer));
  int64_t toc_end = layer.size - footer_size;
  if (toc_offset >= toc_end) return fail(ErrorKind::kCorrupt, "the footer's TOC offset is past it");
  if (toc_end - toc_offset > kMaxTocBytes) {
    return fail(ErrorKind::kLimit, "TOC of " + std::to_string(toc_end - toc_offset) + " bytes");
  }
  tail.resize(tail.size() - static_cast<size_t>(footer_size));  // [tail_begin, toc_end)
  std::string member;
  if (toc_offset >= tail_begin) {
    tail.erase(0, static_cast<size_t>(toc_offset - tail_begin));
    member = std::move(tail);
  } else {
    member = TRY(fetch_range(session, layer.digest, toc_offset, tail_begin, fetched));
    member += tail;
  }
  std::string tar = TRY(image::gunzip_member(member, kMaxTocJson, "eStargz TOC"));
  // A tar header for stargz.index.json, then the JSON.
  if (tar.size() < 512 || tar.compare(0, 18, std::string(image::estargz::kTocName) + '\0') != 0) {
    return fail(ErrorKind::kCorrupt, "the TOC member does not hold stargz.index.json");
  }
  size_t json_size = std::strtoull(tar.substr(124, 12).c_str(), nullptr, 8);
  if (json_size > tar.size() - 512) return fail(ErrorKind::kCorrupt, "truncated TOC");
  std::string_view json = std::string_view(tar).substr(512, json_size);
  std::string actual = image::Digest::of(json).str();
  if (actual != expected) {
    return fail(ErrorKind::kCorrupt,
                "TOC digest " + actual + " does not match the annotation " + expected);
  }
  image::estargz::Toc toc = TRY(image::estargz::parse_toc(json, "eStargz TOC"));
  if (keep) {
    keep(toc_offset, member);
    keep(toc_end, footer);
  }
  return image::EstargzIndex::build(std::move(toc), toc_offset);
}

}  // namespace

Result<image::EstargzIndex> fetch_estargz_index(Session& session, const image::Descriptor& layer,
                                                int64_t* fetched, const BlobBytesSink& keep) {
  return with_context(fetch_index(session, layer, fetched, keep), "layer " + layer.digest.str());
}

Result<std::string> fetch_estargz_chunk(Session& session, const image::Digest& blob,
                                        const image::EstargzChunk& chunk, int64_t* fetched,
                                        const BlobBytesSink& keep) {
  std::string member = TRY(fetch_range(session, blob, chunk.blob_offset, chunk.blob_end, fetched));
  size_t need = static_cast<size_t>(chunk.inner_offset + chunk.size);
  std::string plain = TRY_CTX(image::gunzip_member(member, need + (64 << 20), "eStargz chunk"),
                              "blob " + blob.str());
  if (plain.size() < need) {
    return fail(ErrorKind::kCorrupt, "blob " + blob.str() + ": chunk at " +
                                         std::to_string(chunk.blob_offset) + " is short");
  }
  std::string data =
      plain.substr(static_cast<size_t>(chunk.inner_offset), static_cast<size_t>(chunk.size));
  if (image::Digest::of(data).str() != chunk.digest) {
    return fail(ErrorKind::kCorrupt, "blob " + blob.str() + ": chunk at " +
                                         std::to_string(chunk.blob_offset) +
                                         " does not match its TOC digest");
  }
  if (keep) keep(chunk.blob_offset, member);
  return data;
}

}  // namespace imgbuild::registry
