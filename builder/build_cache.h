// BuildCache: the build cache on disk, in the store's cache/ directory.
//
//   cache/records/<key>.json   one per executed layer step: what the step produced.
//       {"key": "<hex>", "manifests": [], "blobs": ["sha256:<layer blob>"],
//        "layers": ["sha256:<diff id>"], "media_type": "...", "size": N,
//        "created": "<RFC 3339>", "empty_layer": false, "source": "<imported from>"}
//     The "manifests"/"blobs"/"layers" keys make the record a GC root for `imgbuild prune`.
//   cache/steps/<step id>.json the key inputs of the step last built at that position (same
//     context directory, Dockerfile, stage and instruction index), kept only to explain the next
//     miss: which instruction text, arg/env value, source file or parent changed.
//   cache/context/<id>.index  the context hash index (context_index.h).
//
// A step's key is the sha256 of its KeyInputs: the parent key, the instruction after expansion,
// the args/env it can see, the digests of the sources it selects, and anything else that decides
// its result (the key of a --from stage). Records are written atomically (temp + rename); a
// record whose blob or unpacked layer is gone (pruned) is a miss. A record that fails to parse is
// a miss too (the cache is never authoritative). Thread-safe: no shared mutable state beyond the
// filesystem, where every write is an atomic rename.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "builder/build_context.h"
#include "image/descriptor.h"
#include "image/digest.h"
#include "image/store.h"

namespace imgbuild::builder {

struct KeyInputs {
  std::string parent;
  std::string instruction;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<EntryDigest> files;
  std::string extra;

  std::string key() const;
  nlohmann::json to_json() const;
  static std::optional<KeyInputs> from_json(const nlohmann::json& j);
};

// Why `now` missed, compared with the inputs `before` recorded at the same step last time.
std::string explain_miss(const KeyInputs& now, const std::optional<KeyInputs>& before);

struct CacheRecord {
  std::string key;
  bool empty_layer = false;
  image::Digest diff_id;
  image::Descriptor blob;
  std::string created;
  std::string source;  // the cache it was imported from ("localhost:5000/app:cache"), or ""
};

class BuildCache {
 public:
  explicit BuildCache(image::Store store) : store_(std::move(store)) {}

  // nullopt on a miss (no record, unreadable record, or its content pruned).
  std::optional<CacheRecord> lookup(const std::string& key) const;
  Status save(const CacheRecord& record) const;

  std::optional<KeyInputs> previous_inputs(const std::string& step_id) const;
  Status save_inputs(const std::string& step_id, const KeyInputs& inputs) const;

  // cache/context/<sha of the context path>.index
  std::string context_index_path(const std::string& context_dir) const;

 private:
  std::string steps_dir() const;
  image::Store store_;
};

}  // namespace imgbuild::builder
