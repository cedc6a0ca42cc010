// Platform of an image or an index entry (OCI image-index "platform" object), with parsing of the
// "os/arch[/variant]" notation (--platform) and the host's platform. Value type.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::image {

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH names: "amd64", "arm64", "arm", "386", ...
  std::string variant;       // "v7", "v8"; may be empty
  std::string os_version;
  std::vector<std::string> os_features;

  // "linux/amd64", "linux/arm/v7", "linux/arm64/v8". Architecture aliases are normalised
  // (x86_64 -> amd64, aarch64 -> arm64, armhf -> arm/v7, i386 -> 386). Errors name the input.
  static Result<Platform> parse(std::string_view text);
  // The platform this binary runs on (os "linux", GOARCH name of the CPU).
  static Platform host();

  // "linux/amd64" or "linux/arm/v7".
  std::string str() const;
  // True when an image for `this` runs on `wanted`: same os and architecture, and the variant
  // matches when both name one (arm64 images without variant match "v8").
  bool matches(const Platform& wanted) const;

  nlohmann::json to_json() const;
  // Throws nothing; errors are kCorrupt naming the bad field.
  static Result<Platform> from_json(const nlohmann::json& j);

  bool operator==(const Platform&) const = default;
};

}  // namespace imgbuild::image
