// The content store: an OCI image layout on disk, plus one unpacked copy of every layer.
// Format: docs/store_format.md.
//
//   <root>/oci-layout, index.json     OCI layout; index.json lists the images (tags carry the
//                                     org.opencontainers.image.ref.name annotation)
//   <root>/blobs/sha256/<hex>         every blob once (layers, configs, manifests, indexes)
//   <root>/layers/sha256/<diffid hex> the unpacked copy of each layer (whiteouts kept as files)
//   <root>/tmp/                       staging; everything enters the store by atomic rename
//   <root>/cache/records/*.json       build cache records (GC roots, written by the engine)
//   <root>/containers/<id>/refs.json  per-container GC roots (runtime)
//   <root>/mounts/*.json              GC roots of live `imgbuild mount`s (imgfs)
//   <root>/index.lock, gc.lock        flock files
//
// Concurrency. A Store is a cheap, copyable handle; every method is thread-safe and several
// processes may use one root at once. Blobs and layer directories are immutable once renamed in,
// so readers never lock. index.json is read-modify-written under an exclusive flock on index.lock
// and replaced atomically. Garbage collection takes an exclusive flock on gc.lock; writers hold a
// shared one (a Lease) while they create content that no root references yet. Each writing method
// takes its own Lease, but a sequence like "write blobs, then commit, then tag" must hold one
// Lease across the whole sequence, or a concurrent prune may collect the blobs in between.
// Never call prune()/collect_garbage() while holding a Lease in the same process (it would wait
// for itself).
//
// GC roots (what prune keeps): every manifest listed in index.json (tagged, or untagged =
// dangling), and the digests listed in JSON records
//   {"manifests": ["sha256:..."], "blobs": ["sha256:..."], "layers": ["sha256:<diff id>"]}
// at cache/records/*.json, containers/*/refs.json and mounts/*.json. A root manifest keeps its
// config, its layer blobs and the unpacked layers of its config's diff IDs (an index keeps the
// child manifests it lists that are present).
//
// Crash recovery. Staging entries in tmp/ are named "<pid>.<start time>-<purpose>-XXXXXX"; open()
// removes entries whose owner process is gone (pid dead or reused) and stale index.json.tmp-*
// files. Errors: kNotFound for missing images/blobs/layers, kCorrupt when content fails
// verification, kIo from the filesystem, each naming the path or reference.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "base/unique_fd.h"
#include "image/blob_writer.h"
#include "image/descriptor.h"
#include "image/digest.h"
#include "image/image_config.h"
#include "image/index.h"
#include "image/manifest.h"
#include "image/reference.h"

namespace imgbuild::image {

// A resolved image: what resolve() and list_images() return.
struct Image {
  Digest manifest_digest;
  int64_t manifest_size = 0;
  std::string manifest_media_type;  // of the resolved image manifest
  Manifest manifest;
  Digest config_digest;  // the image ID, as Docker defines it
  ImageConfig config;
  std::vector<Reference> tags;  // full references tagged to manifest_digest, sorted
  // Set when the name led to an index (manifest list): its digest; manifest_* is then the entry
  // for the host platform.
  std::optional<Digest> index_digest;

  const Digest& id() const { return config_digest; }
};

struct CommittedImage {
  Digest manifest_digest;
  int64_t manifest_size = 0;
  Digest config_digest;
};

// One line of index.json.
struct IndexEntry {
  Descriptor descriptor;         // manifest (or index) descriptor, annotations included
  std::optional<Reference> ref;  // nullopt: dangling (untagged) image
};

// The JSON GC-root record format shared with engine, runtime and imgfs.
struct GcRecord {
  std::vector<Digest> manifests;
  std::vector<Digest> blobs;
  std::vector<Digest> layers;  // diff IDs of unpacked layers
  nlohmann::json to_json() const;
  static Result<GcRecord> from_json(const nlohmann::json& j);  // kCorrupt on bad shape
};

struct PruneReport {
  std::vector<Digest> untagged_images;  // dangling manifest entries dropped from index.json
  std::vector<Digest> blobs;            // removed blobs
  std::vector<Digest> layers;           // removed unpacked layers (diff IDs)
  std::vector<Digest> lazy_layers;      // removed lazily fetched layers (blob digests)
  std::vector<Digest> partial_blobs;    // removed partial blobs (image/partial_blob.h)
  uint64_t reclaimed_bytes = 0;         // apparent size of what was removed
};

enum class PruneMode {
  kUnreferenced,            // only content unreachable from index.json and records
  kDanglingAndUnreferenced  // also drop untagged images first (`imgbuild prune`)
};

enum class Verify { kYes, kTrustCaller };

class Store {
 public:
  // RAII shared flock on gc.lock: content created while it is held survives a concurrent prune.
  class Lease {
   public:
    Lease() = default;
    explicit Lease(UniqueFd fd) : fd_(std::move(fd)) {}

   private:
    UniqueFd fd_;
  };

  // Opens (creating when missing) the layout at root, then cleans crash leftovers in tmp/.
  static Result<Store> open(const std::string& root);

  const std::string& root() const;
  std::string tmp_dir() const;            // <root>/tmp
  std::string cache_records_dir() const;  // <root>/cache/records
  std::string containers_dir() const;     // <root>/containers
  std::string mounts_dir() const;         // <root>/mounts
  // <root>/lazy/sha256: a lazily mounted layer's tree, <blob hex>, filled as it is read, and the
  // blob bytes fetched for it (image/partial_blob.h). prune keeps them while a manifest it keeps
  // (a tagged image, a mount's record) has that blob (the bytes only until the blob is whole).
  std::string lazy_dir() const;

  Result<Lease> lease() const;

  // ---- blobs
  bool has_blob(const Digest& digest) const;
  std::string blob_path(const Digest& digest) const;  // <root>/blobs/sha256/<hex>
  Result<int64_t> blob_size(const Digest& digest) const;
  Result<UniqueFd> open_blob(const Digest& digest) const;  // kNotFound "blob not found: sha256:..."
  // Reads a (small) blob whole and verifies its digest (kCorrupt on mismatch).
  Result<std::string> read_blob(const Digest& digest) const;
  // Stores small content (JSON) and returns its digest.
  Result<Digest> put_blob(std::string_view data) const;
  Result<BlobWriter> blob_writer() const;
  // Moves a finished file (must be under tmp_dir(), same filesystem) into blobs/. With
  // Verify::kYes the file is hashed and compared with `expected` when given; kTrustCaller skips
  // hashing (expected is then required: the caller hashed while writing).
  Result<Digest> ingest_blob_file(const std::string& path, const std::optional<Digest>& expected,
                                  Verify verify = Verify::kYes) const;
  Result<StagedFile> make_staging_file(std::string_view purpose = "file") const;
  // A fresh directory under tmp/, removed on destruction unless released.
  Result<fs::TempDir> make_staging_dir(std::string_view purpose = "stage") const;

  // ---- unpacked layers
  bool has_layer(const Digest& diff_id) const;
  std::string layer_path(const Digest& diff_id) const;  // <root>/layers/sha256/<hex>
  // Extracts the layer blob into layers/ unless already there (idempotent; concurrent callers
  // race safely, one rename wins). The extracted tar's diff ID must equal diff_id (kCorrupt).
  // Returns layer_path(diff_id).
  Result<std::string> unpack_layer(const Descriptor& blob, const Digest& diff_id) const;
  // Moves a finished directory (under tmp_dir()) in as the unpacked copy of diff_id. When that
  // layer already exists the staged directory is removed instead. Returns layer_path(diff_id).
  Result<std::string> adopt_layer_dir(const std::string& staged_dir, const Digest& diff_id) const;
  // The unpacked directories of the image's layers, bottom first, extracting missing ones (two
  // at a time). Manifest layers pair with config diff_ids by position (kCorrupt if counts differ).
  Result<std::vector<std::string>> prepare_layers(const Manifest& manifest,
                                                  const ImageConfig& config) const;
  Result<std::vector<std::string>> prepare_layers(const Image& image) const;

  // ---- images
  // Writes config and OCI manifest blobs (layers must be in blobs/ or recorded as remote,
  // image/remote_blobs.h) and records the image as dangling in index.json until tagged.
  // Deterministic: same input, same digests.
  Result<CommittedImage> commit_image(
      const ImageConfig& config, const std::vector<Descriptor>& layers,
      const std::map<std::string, std::string>& annotations = {}) const;
  // Points ref (tag required; a digest in ref is ignored) at a manifest or index blob already in
  // the store; an image the tag pointed at before keeps a dangling entry if nothing else tags it.
  Status tag(const Reference& ref, const Digest& manifest_digest, int64_t manifest_size = -1,
             std::string_view media_type = {}) const;
  // Removes the tag; kNotFound "no such tag: app:latest" when absent. When this was the image's
  // last tag the image's entry is removed entirely (it is then garbage for prune) unless
  // keep_dangling. Returns the manifest digest the tag pointed at.
  Result<Digest> untag(const Reference& ref, bool keep_dangling = false) const;
  // Lists a manifest (or index) blob already in the store as a dangling image unless index.json
  // already lists it (for images that arrive untagged: pull by digest, load).
  Status record_image(const Digest& manifest_digest) const;
  // Removes every index entry of the manifest (all its tags and any dangling entry).
  Status remove_image(const Digest& manifest_digest) const;
  // index.json as parsed, in file order.
  Result<std::vector<IndexEntry>> index_entries() const;
  // One Image per distinct manifest in index.json (tags grouped), newest created first.
  Result<std::vector<Image>> list_images() const;
  // Accepts a reference ("app", "app:1", "localhost:5000/app@sha256:..."), a manifest digest, an
  // image ID ("sha256:<config hex>", the bare hex, or a unique prefix of it). kNotFound
  // "image not found: app:latest"; kInvalidArgument for an ambiguous ID prefix.
  Result<Image> resolve(std::string_view name_or_id) const;
  // Loads the image whose manifest (or index) digest is given (the blob must be present).
  Result<Image> load_image(const Digest& manifest_digest) const;

  // ---- garbage collection
  Result<PruneReport> prune(PruneMode mode = PruneMode::kDanglingAndUnreferenced) const;
  // prune(kUnreferenced) when no other process holds a Lease right now; nullopt when busy (rmi
  // uses it so it never waits behind a running build).
  Result<std::optional<PruneReport>> collect_garbage_if_idle() const;
  // Atomically writes a GC record at path (e.g. fs::join(cache_records_dir(), key + ".json")).
  Status write_gc_record(const std::string& path, const GcRecord& record) const;

 private:
  struct State;
  explicit Store(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace imgbuild::image
