// Image index: an OCI image index, or a Docker manifest list read as one (entry media types mapped
// to OCI's). Also the shape of an OCI layout's index.json. Value type; serialize() is
// deterministic. Errors are kCorrupt, prefixed "index: ".
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/platform.h"

namespace imgbuild::image {

struct Index {
  int schema_version = 2;
  std::string media_type;  // as declared; kOciIndex for indexes we create
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;

  static Result<Index> parse(std::string_view bytes, std::string_view declared_type = {});
  static Result<Index> from_json(const nlohmann::json& j, std::string_view declared_type = {});
  nlohmann::json to_json() const;
  std::string serialize() const;

  // The image manifest entry for `wanted` (first match in index order; entries without a
  // platform never match). kNotFound lists the platforms the index has:
  // "no manifest for platform linux/s390x (index has linux/amd64, linux/arm64/v8)".
  Result<Descriptor> select(const Platform& wanted) const;
};

}  // namespace imgbuild::image
