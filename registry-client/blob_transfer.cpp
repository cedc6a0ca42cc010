#include "registry-client/blob_transfer.h"

#include <ctime>
#include <optional>
#include <random>
#include <thread>

#include "base/log.h"
#include "image/blob_writer.h"
#include "image/byte_ranges.h"

namespace imgbuild::registry {
std::string blob_path(const Session& session, const image::Digest& digest) {
  return "/v2/" + session.repository() + "/blobs/" + digest.str();
}

namespace {

Status check_cancel(const std::atomic<bool>* cancel) {
  if (cancel != nullptr && cancel->load()) return fail(ErrorKind::kCancelled, "cancelled");
  return {};
}

double jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

std::string with_digest_query(const std::string& location, const image::Digest& digest) {
  std::string d = digest.str();
  std::string encoded = d.substr(0, 6) + "%3A" + d.substr(7);
  return location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + encoded;
}

Status fetch_blob(Session& session, const image::Store& store, const image::Descriptor& blob,
                  Progress* progress, const std::atomic<bool>* cancel, const BlobTee& tee,
                  LocalBytes* local) {
  std::string what = "blob " + blob.digest.str();
  image::BlobWriter writer = TRY_CTX(store.blob_writer(), what);
  int64_t written = 0;
  int64_t downloaded = 0;
  std::optional<Error> tee_error;
  // Registries may send bytes beyond the descriptor's size; stop reading at once rather than
  // filling the disk (the digest check would fail anyway).
  const int64_t limit = blob.size;
  image::ByteRanges have;
  if (local != nullptr) {
    auto present = local->partial.present();
    if (present) {
      for (const auto& r : present->ranges()) {
        if (r.end - r.begin >= local->min_range) have.add(r.begin, r.end);
      }
    } else {
      log::debug(what + ": " + present.error().message() + "; downloading it all");
    }
  }
  if (progress != nullptr) {
    progress->begin(blob.digest, std::max<int64_t>(0, limit - have.total()), "Downloading");
  }
  auto take = [&](std::string_view data) -> Status {
    TRY(writer.write(data));
    if (tee.feed && !tee_error) {
      // Keep going after the tee fails: bytes damaged in transit should be reported as the
      // digest mismatch they are, not as whatever the tee made of them.
      if (auto st = tee.feed(data); !st) tee_error = st.error();
    }
    written += static_cast<int64_t>(data.size());
    return {};
  };
  const int max_attempts = 5;
  int failures = 0;
  for (bool first = true;; first = false) {
    TRY(check_cancel(cancel));
    // Bytes the store has already (a lazy mount's, image/partial_blob.h) are copied, in order,
    // up to the next gap.
    if (auto r = have.covering(written)) {
      constexpr int64_t kPiece = 1 << 20;
      int64_t end = std::min(r->end, limit);
      while (written < end) {
        TRY(check_cancel(cancel));
        size_t n = static_cast<size_t>(std::min(kPiece, end - written));
        std::string data = TRY_CTX(local->partial.read(written, n), what);
        local->reused += static_cast<int64_t>(n);
        TRY(take(data));
      }
      continue;
    }
    if (!first && written >= limit) break;
    // A download asks for what is missing: from the first byte not yet written to the next byte
    // the store has (to the end when there is none). A registry that ignores Range answers 200
    // with the whole blob: its first `resume_at` bytes are dropped and the rest is taken to the
    // end, the store's bytes unused (same result; the digest check covers every byte kept).
    const int64_t resume_at = written;
    const int64_t gap_end = have.next_present(written, limit);
    int64_t skip = -1;  // unknown until the response's first bytes arrive
    Request req;
    req.target = blob_path(session, blob.digest);
    if (resume_at > 0 || gap_end < limit) {
      req.headers.emplace_back("Range", "bytes=" + std::to_string(resume_at) + "-" +
                                            (gap_end < limit ? std::to_string(gap_end - 1) : ""));
    }
    req.sink = [&](int status, std::string_view data) -> Status {
      TRY(check_cancel(cancel));
      if (skip < 0) skip = status == 206 ? 0 : resume_at;
      if (skip > 0) {
        auto n = std::min<int64_t>(skip, static_cast<int64_t>(data.size()));
        data.remove_prefix(static_cast<size_t>(n));
        skip -= n;
      }
      if (data.empty()) return {};
      if (written + static_cast<int64_t>(data.size()) > limit) {
        // Named by the layers above: "blob sha256:..: <registry>/<repository>: ".
        return fail(ErrorKind::kCorrupt, "registry sent more than the " + std::to_string(limit) +
                                             " bytes the manifest declares");
      }
      TRY(take(data));
      downloaded += static_cast<int64_t>(data.size());
      if (progress != nullptr) progress->advance(blob.digest, downloaded);
      return {};
    };
    auto r = session.send(req);
    if (!r) {
      // A cut after the last byte needs no resume (and a Range past the end would be a 416).
      if (r.error().kind() == ErrorKind::kNetwork && written == limit && limit > 0) break;
      if (r.error().kind() == ErrorKind::kNetwork && ++failures < max_attempts) {
        log::debug(r.error().message() + "; resuming at byte " + std::to_string(written));
        session.sleep_for(
            std::chrono::milliseconds(static_cast<int64_t>(100 * failures * (1 + jitter()))));
        continue;
      }
      return fail(r.error().with_context(what));
    }
    if (r->status != 200 && r->status != 206) {
      return fail(session.status_error("GET " + what, *r));
    }
    // A short (or empty) answer is reported as truncated below, not asked again: only a gap
    // answered whole goes on to the store's next bytes.
    if (written < gap_end) break;
  }
  if (written < limit) {
    return fail(ErrorKind::kCorrupt, what + ": truncated: received " + std::to_string(written) +
                                         " of " + std::to_string(limit) + " bytes");
  }
  std::string where = session.registry() + "/" + session.repository();
  TRY_CTX(writer.seal(blob.digest, blob.size), where);
  if (tee_error) return fail(*tee_error);
  if (tee.finish) TRY(tee.finish());
  TRY_CTX(writer.publish(), where);
  return {};
}

Result<std::string> fetch_small_blob(Session& session, const image::Descriptor& blob,
                                     std::string_view kind, size_t limit) {
  std::string what = std::string(kind) + " " + blob.digest.str();
  std::string where = session.registry() + "/" + session.repository();
  if (blob.size < 0 || static_cast<uint64_t>(blob.size) > limit) {
    return fail(ErrorKind::kLimit, what + ": the manifest declares " + std::to_string(blob.size) +
                                       " bytes, more than the " + limit_text(limit) +
                                       " limit for a " + std::string(kind));
  }
  Request req;
  req.target = blob_path(session, blob.digest);
  // One byte more than declared tells a registry that sends too much from one that sends enough.
  req.max_body = static_cast<size_t>(blob.size) + 1;
  auto sent = session.send(req);
  if (!sent && sent.error().kind() == ErrorKind::kLimit) {
    return fail(ErrorKind::kCorrupt, what + ": " + where + " sent more than the " +
                                         std::to_string(blob.size) +
                                         " bytes the manifest declares");
  }
  auto r = TRY_CTX(std::move(sent), what);
  if (r.status != 200) return fail(session.status_error("GET " + what, r));
  image::Digest got = image::Digest::of(r.body);
  if (got != blob.digest) {
    return fail(ErrorKind::kCorrupt, where + ": " + what + ": digest mismatch: got " + got.str());
  }
  if (static_cast<int64_t>(r.body.size()) != blob.size) {
    return fail(ErrorKind::kCorrupt, what + ": size " + std::to_string(r.body.size()) +
                                         " does not match the descriptor's " +
                                         std::to_string(blob.size));
  }
  return std::move(r.body);
}

namespace {

Result<std::string> start_upload(Session& session, const std::string& what, uint64_t* chunk_min) {
  Request post;
  post.method = "POST";
  post.target = "/v2/" + session.repository() + "/blobs/uploads/";
  auto r = TRY_CTX(session.send(post), what);
  if (r.status != 202) return fail(session.status_error("POST " + what + " upload", r));
  auto location = r.header("Location");
  if (!location || location->empty()) {
    return fail(ErrorKind::kRegistry,
                what + ": " + session.registry() + " started an upload without a Location");
  }
  if (auto min = r.header("OCI-Chunk-Min-Length"); min && chunk_min != nullptr) {
    *chunk_min = std::strtoull(min->c_str(), nullptr, 10);
  }
  return *location;
}

Status upload_chunked(Session& session, const image::Descriptor& blob, int fd,
                      const std::string& what, uint64_t chunk_size, Progress* progress,
                      const std::atomic<bool>* cancel) {
  uint64_t chunk_min = 0;
  std::string location = TRY(start_upload(session, what, &chunk_min));
  chunk_size = std::max(chunk_size, chunk_min);
  uint64_t total = static_cast<uint64_t>(blob.size);
  for (uint64_t offset = 0; offset < total;) {
    TRY(check_cancel(cancel));
    uint64_t n = std::min(chunk_size, total - offset);
    Request patch;
    patch.method = "PATCH";
    patch.target = session.resolve(location);
    patch.headers = {
        {"Content-Type", "application/octet-stream"},
        {"Content-Range", std::to_string(offset) + "-" + std::to_string(offset + n - 1)}};
    patch.file_body = FileBody{fd, offset, n};
    auto r = TRY_CTX(session.send(patch), what);
    if (r.status != 202) return fail(session.status_error("PATCH " + what, r));
    if (auto next = r.header("Location"); next && !next->empty()) location = *next;
    offset += n;
    if (progress != nullptr) progress->advance(blob.digest, static_cast<int64_t>(offset));
  }
  Request put;
  put.method = "PUT";
  put.target = with_digest_query(session.resolve(location), blob.digest);
  put.headers = {{"Content-Type", "application/octet-stream"}};
  auto r = TRY_CTX(session.send(put), what);
  if (r.status != 201) return fail(session.status_error("PUT " + what, r));
  return {};
}

}  // namespace

Result<PushOutcome> push_blob(Session& session, const image::Store& store,
                              const image::Descriptor& blob, const PushBlobOptions& options,
                              Progress* progress, const std::atomic<bool>* cancel) {
  std::string what = "blob " + blob.digest.str();
  TRY(check_cancel(cancel));
  Request head;
  head.method = "HEAD";
  head.target = blob_path(session, blob.digest);
  auto exists = TRY_CTX(session.send(head), what);
  if (exists.status == 200) return PushOutcome::kExisted;
  if (exists.status != 404) return fail(session.status_error("HEAD " + what, exists));

  std::string location;
  uint64_t chunk_min = 0;  // unused by a monolithic upload; chunked asks its own session
  for (const auto& from : options.mount_from) {
    session.add_pull_scope(from);
    Request mount;
    mount.method = "POST";
    std::string d = blob.digest.str();
    mount.target = "/v2/" + session.repository() + "/blobs/uploads/?mount=" + d.substr(0, 6) +
                   "%3A" + d.substr(7) + "&from=" + from;
    auto r = session.send(mount);
    if (r && r->status == 201) return PushOutcome::kMounted;
    if (r && r->status == 202) {
      // The registry could not mount and opened an ordinary upload session instead (spec).
      if (auto loc = r->header("Location"); loc && !loc->empty()) location = *loc;
      if (auto min = r->header("OCI-Chunk-Min-Length")) {
        chunk_min = std::strtoull(min->c_str(), nullptr, 10);
      }
      break;
    }
    log::debug(what + ": mount from " + from + " failed (" +
               (r ? "HTTP " + std::to_string(r->status) : r.error().message()) +
               "); uploading instead");
    break;
  }

  if (!store.has_blob(blob.digest) && options.fetch_missing) TRY(options.fetch_missing());
  auto fd = TRY_CTX(store.open_blob(blob.digest), "pushing " + what);
  int64_t size = TRY(store.blob_size(blob.digest));
  if (size != blob.size) {
    return fail(ErrorKind::kCorrupt, what + ": store has " + std::to_string(size) +
                                         " bytes, manifest says " + std::to_string(blob.size));
  }
  if (progress != nullptr) progress->begin(blob.digest, blob.size, "Pushing");
  if (location.empty()) location = TRY(start_upload(session, what, &chunk_min));
  TRY(check_cancel(cancel));
  {
    Request put;
    put.method = "PUT";
    put.target = with_digest_query(session.resolve(location), blob.digest);
    put.headers = {{"Content-Type", "application/octet-stream"}};
    put.file_body = FileBody{fd.get(), 0, static_cast<uint64_t>(blob.size)};
    auto r = TRY_CTX(session.send(put), what);
    if (r.status == 201) {
      if (progress != nullptr) progress->advance(blob.digest, blob.size);
      return PushOutcome::kUploaded;
    }
    bool refuses_monolithic =
        r.status == 400 || r.status == 405 || r.status == 413 || r.status == 415 || r.status == 416;
    if (!refuses_monolithic) return fail(session.status_error("PUT " + what, r));
    log::debug(what + ": monolithic upload refused (HTTP " + std::to_string(r.status) +
               "); uploading in chunks");
  }
  TRY(upload_chunked(session, blob, fd.get(), what, options.chunk_size, progress, cancel));
  return PushOutcome::kUploaded;
}

}  // namespace imgbuild::registry
