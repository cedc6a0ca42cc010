// Content digests: "sha256:" followed by 64 lowercase hex characters. Only sha256 is accepted
// (the algorithm every registry and OCI layout uses); anything else is rejected by parse().
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/sha256.h"

namespace imgbuild::image {

class Digest {
 public:
  Digest() = default;  // empty; valid() is false

  // Validates "sha256:<64 lowercase hex>"; the error says what is wrong.
  static Result<Digest> parse(std::string_view text);
  // From 64 lowercase hex characters (must already be valid, e.g. from Sha256::finish_hex()).
  static Digest from_hex(std::string hex);
  // sha256 of data.
  static Digest of(std::string_view data);

  bool valid() const { return !value_.empty(); }
  const std::string& str() const { return value_; }  // "sha256:abcd..."
  std::string_view hex() const { return std::string_view(value_).substr(7); }
  std::string_view algorithm() const { return "sha256"; }
  std::string short_hex(size_t n = 12) const { return std::string(hex().substr(0, n)); }

  auto operator<=>(const Digest&) const = default;
  bool operator==(const Digest&) const = default;

 private:
  explicit Digest(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

// True when text is 64 lowercase hex characters.
bool is_sha256_hex(std::string_view text);

}  // namespace imgbuild::image

template <>
struct std::hash<imgbuild::image::Digest> {
  size_t operator()(const imgbuild::image::Digest& d) const noexcept {
    return std::hash<std::string>()(d.str());
  }
};
