// Location headers resolved per RFC 3986 section 5.2, and the redirects a session refuses.
#include "registry-client/redirect.h"

#include <catch2/catch.hpp>

#include "fake_transport.h"
#include "registry-client/session.h"

using namespace imgbuild;
using namespace imgbuild::registry;
using registry::testing::FakeTransport;
using registry::testing::response;

namespace {

const char* kBase = "https://reg.example/v2/app/blobs/sha256:ab?x=1";

std::string resolved(std::string_view base, std::string_view location) {
  auto r = resolve_redirect(base, location);
  REQUIRE(r);
  return *r;
}

std::string refusal(std::string_view base, std::string_view location) {
  auto r = resolve_redirect(base, location);
  REQUIRE(!r);
  CHECK(r.error().kind() == ErrorKind::kRegistry);
  return r.error().message();
}

}  // namespace

TEST_CASE("a Location is resolved against the request URL as RFC 3986 says") {
  CHECK(resolved(kBase, "https://cdn.example/b/1?sig=s") == "https://cdn.example/b/1?sig=s");
  CHECK(resolved(kBase, "HTTPS://cdn.example/b") == "https://cdn.example/b");
  CHECK(resolved(kBase, "//cdn.example/b") == "https://cdn.example/b");
  CHECK(resolved(kBase, "/final") == "https://reg.example/final");
  CHECK(resolved(kBase, "next") == "https://reg.example/v2/app/blobs/next");
  CHECK(resolved(kBase, "../../other/blobs/c") == "https://reg.example/v2/other/blobs/c");
  CHECK(resolved(kBase, "../../../../../../etc") == "https://reg.example/etc");
  CHECK(resolved(kBase, "./a/./b/../c#frag") == "https://reg.example/v2/app/blobs/a/c");
  CHECK(resolved(kBase, "?y=2") == "https://reg.example/v2/app/blobs/sha256:ab?y=2");
  CHECK(resolved(kBase, "https://cdn.example") == "https://cdn.example/");
  CHECK(resolved("http://127.0.0.1:5000/v2/a/blobs/x", "/s/x") == "http://127.0.0.1:5000/s/x");
}

TEST_CASE("a redirect to another scheme is absolute and refused") {
  CHECK(refusal(kBase, "file:///etc/passwd") ==
        "redirect to \"file:///etc/passwd\" refused: only http and https URLs are followed");
  CHECK(refusal(kBase, "FILE:/etc/passwd") ==
        "redirect to \"FILE:/etc/passwd\" refused: only http and https URLs are followed");
  CHECK(refusal(kBase, "ftp://mirror.example/blob?token=secret") ==
        "redirect to \"ftp://mirror.example/blob\" refused: only http and https URLs are "
        "followed");
  CHECK(refusal(kBase, "gopher:x") ==
        "redirect to \"gopher:x\" refused: only http and https URLs are followed");
  CHECK(refusal(kBase, "https:///no-host") ==
        "redirect to \"https:///no-host\" refused: the URL has no host");
  CHECK(refusal(kBase, "/a b") == "redirect to \"/a b\" refused: not a valid URI reference");
}

TEST_CASE("a redirect from https to plain http is refused unless it stays on loopback") {
  CHECK(refusal(kBase, "http://cdn.example/b") ==
        "redirect to \"http://cdn.example/b\" refused: it leaves https for plain http on a host "
        "that is not loopback");
  CHECK(refusal(kBase, "http://user:pw@cdn.example/b?sig=s") ==
        "redirect to \"http://cdn.example/b\" refused: it leaves https for plain http on a host "
        "that is not loopback");
  // A network-path reference keeps the scheme of the request, so it is no downgrade.
  CHECK(resolved(kBase, "//cdn.example/b") == "https://cdn.example/b");
  CHECK(resolved(kBase, "http://127.0.0.1:9000/b") == "http://127.0.0.1:9000/b");
  CHECK(resolved(kBase, "http://localhost/b") == "http://localhost/b");
  CHECK(resolved(kBase, "http://[::1]:9000/b") == "http://[::1]:9000/b");
  // Plain HTTP to plain HTTP is no downgrade (an insecure registry's own storage).
  CHECK(resolved("http://reg.lan:5000/v2/a/blobs/x", "http://store.lan/b") == "http://store.lan/b");
}

TEST_CASE("session refuses a redirect to file: at once, without following it") {
  FakeTransport t([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url.ends_with("/v2/")) return response(200);
    return response(307, "", {{"Location", "file:///etc/passwd"}});
  });
  Session s(t, "reg.example", "app", Access::kPull, Credential{});
  auto r = s.send(Request{.target = "/v2/app/blobs/sha256:ab"});
  REQUIRE(!r);
  CHECK(r.error().kind() == ErrorKind::kRegistry);
  CHECK(r.error().message() ==
        "GET https://reg.example/v2/app/blobs/sha256:ab: redirect to \"file:///etc/passwd\" "
        "refused: only http and https URLs are followed");
  CHECK(t.requests().size() == 2);  // GET /v2/ and the blob, nothing after the 307
}
