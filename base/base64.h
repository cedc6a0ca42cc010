// Base64, standard alphabet, padded (RFC 4648 section 4): Docker's config.json "auth" values and
// the byte strings in JSON documents (eStargz xattrs). Decoding skips '=' and line breaks.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace imgbuild {

std::string base64_encode(std::string_view data);
// kParse "invalid base64" for a character outside the alphabet.
Result<std::string> base64_decode(std::string_view text);

}  // namespace imgbuild
