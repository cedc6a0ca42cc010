// GET /v2/<repo>/manifests/<tag or digest>, accepting every manifest media type imgbuild reads
// (pull.h's manifest_accept_header). The body is limited (limits.h); its digest is computed from
// the bytes and checked against `expected` (a pull by digest) or against the registry's
// Docker-Content-Digest claim for a tag (kCorrupt on mismatch, naming registry and repository).
// Used by pull and by the build cache import (builder/cache_registry.h).
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "image/digest.h"
#include "registry-client/session.h"

namespace imgbuild::registry {

struct FetchedManifest {
  std::string bytes;
  std::string content_type;  // the Content-Type when it names a manifest type, else empty
  image::Digest digest;
};

Result<FetchedManifest> fetch_manifest(Session& session, const std::string& reference,
                                       const std::optional<image::Digest>& expected);

// An index or manifest list (by Content-Type, else by the document's mediaType or shape).
bool is_index_document(const FetchedManifest& m);

}  // namespace imgbuild::registry
