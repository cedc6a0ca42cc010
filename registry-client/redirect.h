// Where a redirect leads, and whether to follow it. A registry (or the blob storage behind it)
// answers a GET or HEAD with 3xx and a Location; Session follows it itself (session.h).
//
// Location is a URI reference resolved against the URL that was requested, per RFC 3986 section
// 5.2: a reference with a scheme is absolute whatever the scheme ("file:///etc/passwd" is not a
// relative path); "//host/path" keeps the scheme; "/path" keeps scheme and authority; "?query"
// keeps the path; a relative path is merged with the base's directory; dot segments are removed
// and the fragment dropped. The result is absolute.
//
// Only http and https URLs with a host are followed, and never from https down to plain http
// unless the new host is loopback (an insecure registry on localhost may send blobs over
// http://127.0.0.1 too). Refusals are kRegistry errors naming the Location (query and userinfo
// redacted): `redirect to "file:///etc/passwd" refused: only http and https URLs are followed`.
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace imgbuild::registry {

// base_url: the absolute http(s) URL that answered with the redirect.
Result<std::string> resolve_redirect(std::string_view base_url, std::string_view location);

}  // namespace imgbuild::registry
