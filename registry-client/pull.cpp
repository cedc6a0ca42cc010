#include "registry-client/pull.h"

#include <atomic>
#include <mutex>
#include <semaphore>
#include <thread>

#include "image/image_config.h"
#include "image/index.h"
#include "image/manifest.h"
#include "image/media_types.h"
#include "image/streaming_unpack.h"
#include "registry-client/blob_sources.h"
#include "registry-client/blob_transfer.h"
#include "registry-client/limits.h"

namespace imgbuild::registry {
namespace mt = image::media_types;
namespace {

struct FetchedManifest {
  std::string bytes;
  std::string content_type;
  image::Digest digest;
};

std::string bare_media_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

Result<FetchedManifest> fetch_manifest(Session& session, const std::string& reference,
                                       const std::optional<image::Digest>& expected) {
  Request req;
  req.target = "/v2/" + session.repository() + "/manifests/" + reference;
  req.headers.emplace_back("Accept", manifest_accept_header());
  req.max_body = kMaxManifestBytes;
  auto sent = session.send(req);
  if (!sent && sent.error().kind() == ErrorKind::kLimit) {
    return fail(ErrorKind::kLimit, "manifest " + reference + ": " + session.registry() + "/" +
                                       session.repository() + " sent more than " +
                                       limit_text(kMaxManifestBytes) +
                                       ", the limit for a manifest or index");
  }
  auto r = TRY(std::move(sent));
  if (r.status != 200) return fail(session.status_error("GET manifest " + reference, r));
  FetchedManifest m;
  m.digest = image::Digest::of(r.body);
  m.content_type = bare_media_type(r.header("Content-Type").value_or(""));
  if (expected && m.digest != *expected) {
    return fail(ErrorKind::kCorrupt, session.registry() + "/" + session.repository() +
                                         ": manifest " + reference + " has digest " +
                                         m.digest.str() + ", expected " + expected->str());
  }
  if (auto header = r.header("Docker-Content-Digest"); header && !expected) {
    // The header is the registry's claim for a tag; a mismatch means a broken or hostile
    // registry or proxy, and the bytes' own digest is what the store will use either way.
    if (*header != m.digest.str()) {
      return fail(ErrorKind::kCorrupt, session.registry() + "/" + session.repository() +
                                           ": manifest " + reference + " hashes to " +
                                           m.digest.str() + " but the registry says " + *header);
    }
  }
  if (m.content_type != mt::kOciManifest && m.content_type != mt::kOciIndex &&
      m.content_type != mt::kDockerManifest && m.content_type != mt::kDockerManifestList) {
    m.content_type.clear();  // generic or missing: let the document's mediaType decide
  }
  m.bytes = std::move(r.body);
  return m;
}

bool is_index_document(const FetchedManifest& m) {
  if (!m.content_type.empty()) return mt::is_index(m.content_type);
  try {
    auto j = nlohmann::json::parse(m.bytes);
    if (j.contains("mediaType") && j["mediaType"].is_string()) {
      return mt::is_index(j["mediaType"].get<std::string>());
    }
    return j.contains("manifests") && !j.contains("layers");
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

struct LayerJob {
  image::Descriptor blob;
  image::Digest diff_id;
};

// Runs the layer jobs on `parallel` threads; the first real error cancels the rest.
Result<int> fetch_layers(Session& session, const image::Store& store,
                         const std::vector<LayerJob>& jobs, const PullOptions& options) {
  std::atomic<size_t> next{0};
  std::atomic<bool> cancel{false};
  std::atomic<int> fetched{0};
  std::mutex error_mu;
  std::optional<Error> first_error;
  // Extraction is CPU-bound (decompression, hashing); two at a time uses both cores while the
  // remaining workers keep the network busy.
  std::counting_semaphore<2> extract_slots(2);
  Progress* progress = options.progress;

  auto worker = [&]() {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= jobs.size() || cancel.load()) return;
      const LayerJob& job = jobs[i];
      auto run = [&]() -> Status {
        bool have_blob = store.has_blob(job.blob.digest);
        bool have_layer = store.has_layer(job.diff_id);
        if (have_blob && have_layer) {
          if (progress != nullptr) progress->end(job.blob.digest, "Already exists");
          return {};
        }
        if (!have_blob && !have_layer) {
          // The usual case: extract while downloading. The layer is adopted only after the
          // blob's digest and the tar's diff ID have both been checked, and before the blob is
          // published: a layer that fails to extract leaves neither behind.
          std::string context = "layer " + job.blob.digest.str();
          auto unpack = TRY(image::StreamingUnpack::start(store, "unpacking " + context));
          BlobTee tee{.feed = [&](std::string_view data) { return unpack->feed(data); },
                      .finish = [&]() -> Status {
                        if (progress != nullptr) {
                          progress->begin(job.blob.digest, job.blob.size, "Extracting");
                        }
                        TRY(unpack->finish(job.diff_id));
                        return {};
                      }};
          TRY(fetch_blob(session, store, job.blob, progress, &cancel, tee));
          fetched.fetch_add(1);
          if (progress != nullptr) progress->end(job.blob.digest, "Pull complete");
          return {};
        }
        if (!have_blob) {
          TRY(fetch_blob(session, store, job.blob, progress, &cancel));
          fetched.fetch_add(1);
        }
        if (!have_layer) {
          if (progress != nullptr) progress->begin(job.blob.digest, job.blob.size, "Extracting");
          extract_slots.acquire();
          auto unpacked = store.unpack_layer(job.blob, job.diff_id);
          extract_slots.release();
          if (!unpacked)
            return fail(unpacked.error().with_context("layer " + job.blob.digest.str()));
        }
        if (progress != nullptr) progress->end(job.blob.digest, "Pull complete");
        return {};
      };
      auto st = run();
      if (!st) {
        std::lock_guard lock(error_mu);
        if (!first_error || first_error->kind() == ErrorKind::kCancelled) first_error = st.error();
        cancel.store(true);
        return;
      }
    }
  };
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(options.parallel, 1)), jobs.size());
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(worker);
  if (n > 0) worker();
  for (auto& t : threads) t.join();
  if (first_error) return fail(*first_error);
  return fetched.load();
}

Result<PullResult> pull_impl(const image::Store& store, const image::Reference& ref,
                             const PullOptions& options) {
  auto lease = TRY(store.lease());
  auto conn = TRY(Connection::open(ref.registry, ref.repository, Access::kPull, options));
  Session& session = conn->session();
  Progress* progress = options.progress;
  image::Platform platform = options.platform.value_or(image::Platform::host());

  std::string wanted = ref.digest ? ref.digest->str() : ref.tag;
  if (progress != nullptr) {
    progress->message((ref.tag.empty() ? ref.digest->short_hex() : ref.tag) + ": Pulling from " +
                      ref.repository);
  }
  FetchedManifest top = TRY(fetch_manifest(session, wanted, ref.digest));
  PullResult result;
  FetchedManifest manifest_doc;
  std::string index_bytes;
  if (is_index_document(top)) {
    auto index = TRY_CTX(image::Index::parse(top.bytes, top.content_type), "manifest " + wanted);
    auto entry = TRY(index.select(platform));
    result.index_digest = top.digest;
    index_bytes = std::move(top.bytes);
    manifest_doc = TRY(fetch_manifest(session, entry.digest.str(), entry.digest));
    if (manifest_doc.content_type.empty()) manifest_doc.content_type = entry.media_type;
  } else {
    manifest_doc = std::move(top);
  }
  auto manifest = TRY_CTX(image::Manifest::parse(manifest_doc.bytes, manifest_doc.content_type),
                          "manifest " + manifest_doc.digest.str());

  // Config first: its diff IDs name the unpacked layers.
  std::string config_bytes;
  if (store.has_blob(manifest.config.digest)) {
    config_bytes = TRY(store.read_blob(manifest.config.digest));
  } else {
    config_bytes = TRY(fetch_small_blob(session, manifest.config, "config", kMaxConfigBytes));
  }
  auto config =
      TRY_CTX(image::ImageConfig::parse(config_bytes), "config " + manifest.config.digest.str());
  if (config.diff_ids.size() != manifest.layers.size()) {
    return fail(ErrorKind::kCorrupt, "manifest " + manifest_doc.digest.str() + " lists " +
                                         std::to_string(manifest.layers.size()) +
                                         " layers but its config has " +
                                         std::to_string(config.diff_ids.size()) + " diff IDs");
  }
  if (!config.os.empty() && !config.architecture.empty() && !result.index_digest) {
    // A single-platform image for another platform is still pulled (docker warns likewise).
    image::Platform have{.os = config.os, .architecture = config.architecture};
    if (!have.matches(platform) && progress != nullptr) {
      progress->message("WARNING: image platform " + have.str() + " does not match the requested " +
                        platform.str());
    }
  }
  std::vector<LayerJob> jobs;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    jobs.push_back({manifest.layers[i], config.diff_ids[i]});
  }
  result.layers_fetched = TRY(fetch_layers(session, store, jobs, options));

  auto config_digest = TRY(store.put_blob(config_bytes));
  auto manifest_digest = TRY(store.put_blob(manifest_doc.bytes));
  if (manifest_digest != manifest_doc.digest || config_digest != manifest.config.digest) {
    return fail(ErrorKind::kInternal, "store computed different digests for manifest or config");
  }
  if (!index_bytes.empty()) TRY(store.put_blob(index_bytes));
  std::string media_type =
      manifest.media_type.empty() ? std::string(mt::kOciManifest) : manifest.media_type;
  if (!ref.tag.empty()) {
    TRY(store.tag(ref, manifest_digest, static_cast<int64_t>(manifest_doc.bytes.size()),
                  media_type));
  }
  result.manifest_digest = manifest_digest;
  result.config_digest = config_digest;

  std::vector<image::Digest> pulled;
  pulled.push_back(config_digest);
  for (const auto& l : manifest.layers) pulled.push_back(l.digest);
  auto recorded = BlobSources(store.root(), ref.registry).record(ref.repository, pulled);
  (void)recorded;  // only a hint for later mounts
  return result;
}

}  // namespace

std::string manifest_accept_header() {
  return std::string(mt::kOciIndex) + ", " + std::string(mt::kDockerManifestList) + ", " +
         std::string(mt::kOciManifest) + ", " + std::string(mt::kDockerManifest);
}

Result<PullResult> pull_image(const image::Store& store, const image::Reference& ref,
                              const PullOptions& options) {
  return with_context(pull_impl(store, ref, options), "pulling " + ref.familiar());
}

}  // namespace imgbuild::registry
