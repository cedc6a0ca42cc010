// Image manifest: an OCI image manifest, or a Docker image manifest v2 schema 2 read as one (its
// config and layer media types mapped to OCI's; media_type keeps what the document declared).
//
// A manifest's digest is the digest of its bytes as stored or received, so callers that push or
// re-store a manifest must keep the original bytes; serialize() is for manifests we create and is
// deterministic (same Manifest -> same bytes). Value type.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/descriptor.h"

namespace imgbuild::image {

struct Manifest {
  int schema_version = 2;
  std::string media_type;  // as declared (OCI or Docker); kOciManifest for manifests we create
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;  // bottom layer first
  std::map<std::string, std::string> annotations;
  std::optional<Descriptor> subject;

  // Parses manifest bytes. `declared_type` is the Content-Type or descriptor media type when
  // known (empty: use the document's own mediaType, defaulting to OCI). Errors are kCorrupt,
  // prefixed "manifest: ", and say which field is wrong; an index or a Docker schema 1 manifest
  // is rejected as kUnsupported.
  static Result<Manifest> parse(std::string_view bytes, std::string_view declared_type = {});
  static Result<Manifest> from_json(const nlohmann::json& j, std::string_view declared_type = {});

  nlohmann::json to_json() const;
  // Compact JSON with keys in a fixed order: the bytes whose digest names the manifest.
  std::string serialize() const;
};

// Sum of the layer sizes (compressed), as `images` reports for an image's size on the wire.
int64_t total_layer_size(const Manifest& manifest);

}  // namespace imgbuild::image
