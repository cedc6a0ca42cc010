// OCI content descriptor: what a manifest or index says about a blob it references. Value type.
// from_json() maps Docker media types to their OCI equivalents (media_types::to_oci); to_json()
// writes the fields in a fixed order so the same descriptor always serialises to the same bytes.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/digest.h"
#include "image/platform.h"

namespace imgbuild::image {

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::vector<std::string> urls;
  std::string artifact_type;

  nlohmann::json to_json() const;
  // Errors are kCorrupt: `descriptor: missing "digest"`, `descriptor: invalid digest "..."`.
  static Result<Descriptor> from_json(const nlohmann::json& j);

  // The annotation's value, or empty.
  std::string annotation(std::string_view key) const;

  bool operator==(const Descriptor&) const = default;
};

}  // namespace imgbuild::image
