#include "image/digest.h"

namespace imgbuild::image {

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<Digest> Digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return fail(ErrorKind::kInvalidArgument,
                "invalid digest \"" + std::string(text) + "\": missing algorithm prefix");
  }
  std::string_view algo = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  if (algo != "sha256") {
    return fail(ErrorKind::kUnsupported, "invalid digest \"" + std::string(text) +
                                             "\": unsupported algorithm \"" + std::string(algo) +
                                             "\" (only sha256)");
  }
  if (!is_sha256_hex(hex)) {
    return fail(ErrorKind::kInvalidArgument, "invalid digest \"" + std::string(text) +
                                                 "\": sha256 needs 64 lowercase hex characters");
  }
  return Digest(std::string(text));
}

Digest Digest::from_hex(std::string hex) { return Digest("sha256:" + hex); }

Digest Digest::of(std::string_view data) { return from_hex(Sha256::hex_of(data)); }

}  // namespace imgbuild::image
