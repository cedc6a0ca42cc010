// Moving one blob between a registry and the store.
//
// fetch_blob streams GET /v2/<repo>/blobs/<digest> into a BlobWriter (hashing as it writes),
// resuming a broken download with Range: bytes=N- (a registry that ignores Range and answers 200
// has the first N bytes skipped), and commits only when size and digest match the descriptor:
// a mismatch or truncated body is kCorrupt and nothing enters the store. Given the bytes of the
// blob the store holds in part (LocalBytes), it copies those and requests only the gaps, each by
// Range, assembling the blob in order; a registry that answers such a request with 200 has the
// rest taken from that answer.
// push_blob checks whether the registry has the blob (HEAD), tries a cross-repository mount,
// then uploads: monolithic (POST, then PUT with ?digest=), falling back to chunked PATCHes with
// Content-Range when the registry refuses a monolithic body.
//
// Thread-safe as far as Session and Store are; one call per blob. `cancel`, when set by another
// worker's failure, makes a transfer stop early with kCancelled.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/partial_blob.h"
#include "image/store.h"
#include "registry-client/progress.h"
#include "registry-client/session.h"

namespace imgbuild::registry {

// A second consumer of a blob's bytes as they download: a pull extracts the layer from them.
// feed gets each run of bytes in order and exactly once (after any resume); after it fails it gets
// no more, and the download still completes so a damaged blob is reported as the digest mismatch
// it is. finish runs once the digest has checked out and before the blob is published: if it (or
// an earlier feed) fails, that error is returned and the blob does not enter the store.
// "/v2/<repository>/blobs/<digest>": a blob's request target.
std::string blob_path(const Session& session, const image::Digest& digest);

struct BlobTee {
  std::function<Status(std::string_view)> feed;
  std::function<Status()> finish;
};

// What a lazy mount left of the blob (image/partial_blob.h), and how many of its bytes the blob
// was assembled from (set by fetch_blob; progress counts only the others).
struct LocalBytes {
  const image::PartialBlob& partial;
  int64_t reused = 0;
  // Stored ranges shorter than this are downloaded again with the gaps around them: each gap
  // costs a request, a round trip to the registry (lazy reads of many small files leave many).
  int64_t min_range = 64 << 10;
};

Status fetch_blob(Session& session, const image::Store& store, const image::Descriptor& blob,
                  Progress* progress, const std::atomic<bool>* cancel, const BlobTee& tee = {},
                  LocalBytes* local = nullptr);

// A small blob (an image config) fetched into memory and verified against its descriptor. kind
// names it in errors ("config sha256:..."); at most `limit` bytes are read whatever the descriptor
// declares (kLimit when it declares more, before any request; kCorrupt when the registry sends
// more than declared).
Result<std::string> fetch_small_blob(Session& session, const image::Descriptor& blob,
                                     std::string_view kind, size_t limit);

enum class PushOutcome { kExisted, kMounted, kUploaded };

struct PushBlobOptions {
  std::vector<std::string> mount_from;  // repositories on the same registry that may hold it
  uint64_t chunk_size = 16u << 20;      // for chunked uploads (raised to OCI-Chunk-Min-Length)
  // Called when the blob must be uploaded but the store lacks it (a layer left on another
  // registry, image/remote_blobs.h): brings it into the store first.
  std::function<Status()> fetch_missing;
};

Result<PushOutcome> push_blob(Session& session, const image::Store& store,
                              const image::Descriptor& blob, const PushBlobOptions& options,
                              Progress* progress, const std::atomic<bool>* cancel);

// "?digest=sha256%3A..." appended to an upload Location (which may already have a query).
std::string with_digest_query(const std::string& location, const image::Digest& digest);

}  // namespace imgbuild::registry
