// Which repositories on a registry are known to hold a blob, so a push can mount it from there
// (POST ...?mount=<digest>&from=<repository>) instead of uploading it again. Recorded by pull
// (where each blob came from) and push (where it went).
//
// Format: <store root>/registry/<registry>.json, {"sha256:<hex>": ["repo/a", "repo/b"], ...},
// registry names with ':' and '/' replaced by '_'. Read-modify-write under an exclusive flock on
// the file's ".lock" sibling, replaced atomically; readers take no lock. It is only a hint: a
// stale entry makes the registry answer the mount with an upload session, and the push falls
// back to uploading. At most 8 repositories are kept per blob (most recent last).
// Thread-safe (the flock also serialises threads, each taking its own descriptor).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "image/digest.h"

namespace imgbuild::registry {

class BlobSources {
 public:
  BlobSources(std::string store_root, std::string registry);

  // Repositories other than `except` known to hold digest, most recent first.
  std::vector<std::string> repositories_with(const image::Digest& digest,
                                             const std::string& except) const;
  // Records that repository holds every digest in digests.
  Status record(const std::string& repository, const std::vector<image::Digest>& digests) const;

  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace imgbuild::registry
