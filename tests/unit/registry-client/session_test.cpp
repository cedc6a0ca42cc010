#include <catch2/catch.hpp>

#include "fake_transport.h"
#include "registry-client/session.h"

using namespace imgbuild;
using namespace imgbuild::registry;
using registry::testing::FakeTransport;
using registry::testing::response;
using std::chrono::milliseconds;

namespace {

const char* kBearer = R"(Bearer realm="https://auth.example/token",service="reg.example")";

std::string auth_of(const HttpRequest& r) {
  return find_header(r.headers, "Authorization").value_or("");
}

SessionOptions recording(std::vector<milliseconds>* sleeps) {
  SessionOptions o;
  o.sleep = [sleeps](milliseconds d) { sleeps->push_back(d); };
  return o;
}

}  // namespace

TEST_CASE("session fetches a bearer token with basic credentials and the repository scope") {
  FakeTransport t([](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url.starts_with("https://auth.example/token")) {
      return response(200, R"({"token":"T1","expires_in":300})");
    }
    if (find_header(r.headers, "Authorization") != "Bearer T1") {
      return response(401, "", {{"WWW-Authenticate", kBearer}});
    }
    return response(200, "{}");
  });
  std::vector<milliseconds> sleeps;
  Session s(t, "reg.example", "team/app", Access::kPush,
            Credential{.username = "bob", .password = "hunter2"}, recording(&sleeps));
  auto r = s.send(Request{.target = "/v2/team/app/manifests/latest"});
  REQUIRE(r);
  CHECK(r->status == 200);
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[0].url == "https://reg.example/v2/");
  CHECK(auth_of(reqs[0]).empty());
  CHECK(
      reqs[1].url ==
      "https://auth.example/token?service=reg.example&scope=repository%3Ateam%2Fapp%3Apull%2Cpush");
  CHECK(auth_of(reqs[1]) == "Basic Ym9iOmh1bnRlcjI=");
  CHECK(reqs[2].url == "https://reg.example/v2/");  // credentials verified once
  CHECK(reqs[3].url == "https://reg.example/v2/team/app/manifests/latest");
  CHECK(auth_of(reqs[3]) == "Bearer T1");
  CHECK(reqs[3].tls_verify == TlsVerify::kOn);
  // The token is reused.
  REQUIRE(s.send(Request{.target = "/v2/team/app/tags/list"}));
  CHECK(t.requests().size() == 5);
  CHECK(sleeps.empty());
}

TEST_CASE("session asks for a wider token when the registry answers insufficient_scope") {
  int tokens = 0;
  FakeTransport t([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url.starts_with("https://auth.example/token")) {
      ++tokens;
      return response(200, tokens == 1 ? R"({"access_token":"T1"})" : R"({"token":"T2"})");
    }
    if (r.url.ends_with("/v2/")) {
      return auth_of(r).empty() ? response(401, "", {{"WWW-Authenticate", kBearer}})
                                : response(200);
    }
    if (auth_of(r) == "Bearer T1") {
      return response(401, "",
                      {{"WWW-Authenticate",
                        std::string(kBearer) +
                            R"(,error="insufficient_scope",scope="repository:other:pull")"}});
    }
    return response(201);
  });
  Session s(t, "reg.example", "app", Access::kPush, Credential{});
  auto r = s.send(Request{.method = "POST", .target = "/v2/app/blobs/uploads/?mount=x&from=other"});
  REQUIRE(r);
  CHECK(r->status == 201);
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 5);
  CHECK(reqs[1].url ==
        "https://auth.example/token?service=reg.example&scope=repository%3Aapp%3Apull%2Cpush");
  CHECK(auth_of(reqs[1]).empty());  // anonymous
  CHECK(reqs[3].url ==
        "https://auth.example/token?service=reg.example&scope=repository%3Aapp%3Apull%2Cpush"
        "&scope=repository%3Aother%3Apull");
  CHECK(auth_of(reqs[4]) == "Bearer T2");
}

TEST_CASE("session retries 429 honouring Retry-After and 5xx with backoff") {
  int calls = 0;
  FakeTransport t([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url.ends_with("/v2/")) return response(200);
    ++calls;
    if (calls == 1) return response(429, "", {{"Retry-After", "2"}});
    if (calls == 2) return response(503);
    if (calls == 3) return fail(ErrorKind::kNetwork, "GET x: Connection reset by peer");
    return response(200, "ok");
  });
  std::vector<milliseconds> sleeps;
  auto opts = recording(&sleeps);
  opts.retry.base_delay = milliseconds(100);
  Session s(t, "reg.example", "app", Access::kPull, Credential{}, opts);
  auto r = s.send(Request{.target = "/v2/app/manifests/1"});
  REQUIRE(r);
  CHECK(r->body == "ok");
  REQUIRE(sleeps.size() == 3);
  CHECK(sleeps[0] == milliseconds(2000));
  CHECK(sleeps[1] >= milliseconds(100));
  CHECK(sleeps[1] < milliseconds(200));
  CHECK(sleeps[2] >= milliseconds(200));
  CHECK(sleeps[2] < milliseconds(400));
}

TEST_CASE("session gives up after the retry budget with the registry's status") {
  FakeTransport t([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url.ends_with("/v2/")) return response(200);
    return response(503, R"({"errors":[{"code":"UNAVAILABLE","message":"try later"}]})");
  });
  std::vector<milliseconds> sleeps;
  Session s(t, "reg.example", "app", Access::kPull, Credential{}, recording(&sleeps));
  auto r = s.send(Request{.target = "/v2/app/manifests/1"});
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(sleeps.size() == 4);
  CHECK(s.status_error("GET manifest 1", *r).message() ==
        "GET manifest 1: reg.example/app: HTTP 503 Service Unavailable: UNAVAILABLE: try later");
}

TEST_CASE("session follows a redirect to another host without the Authorization header") {
  FakeTransport t([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url == "https://reg.example/v2/") {
      return auth_of(r).empty() ? response(401, "", {{"WWW-Authenticate", R"(Basic realm="r")"}})
                                : response(200);
    }
    if (r.url.starts_with("https://reg.example/v2/app/blobs/")) {
      return response(307, "", {{"Location", "https://cdn.example/b/123?sig=abc"}});
    }
    if (r.url.starts_with("https://cdn.example/b/123")) {
      return response(302, "", {{"Location", "/final"}});
    }
    return response(200, "blob-bytes");
  });
  Session s(t, "reg.example", "app", Access::kPull, Credential{.username = "u", .password = "p"});
  auto r = s.send(Request{.target = "/v2/app/blobs/sha256:x"});
  REQUIRE(r);
  CHECK(r->body == "blob-bytes");
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 5);
  CHECK(auth_of(reqs[2]) == "Basic dTpw");
  CHECK(reqs[3].url == "https://cdn.example/b/123?sig=abc");
  CHECK(auth_of(reqs[3]).empty());
  CHECK(reqs[4].url == "https://cdn.example/final");
  CHECK(auth_of(reqs[4]).empty());
}

TEST_CASE("rejected credentials give an error naming the user but never the secret") {
  FakeTransport t([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url.starts_with("https://auth.example/token")) return response(401, "bad hunter2");
    return response(401, "", {{"WWW-Authenticate", kBearer}});
  });
  Session s(t, "reg.example", "app", Access::kPull,
            Credential{.username = "bob", .password = "hunter2"});
  auto r = s.send(Request{.target = "/v2/app/manifests/1"});
  REQUIRE(!r);
  CHECK(r.error().kind() == ErrorKind::kPermission);
  CHECK(r.error().message() ==
        "token service https://auth.example/token for reg.example: authentication failed for "
        "user \"bob\" (HTTP 401)");
  CHECK(r.error().message().find("hunter2") == std::string::npos);
}

TEST_CASE("wrong basic credentials are reported at ping, as login needs") {
  FakeTransport t([&](const HttpRequest&) -> Result<HttpResponse> {
    return response(401, "", {{"WWW-Authenticate", R"(Basic realm="r")"}});
  });
  Session s(t, "reg.example", "", Access::kPull, Credential{.username = "bob", .password = "pw"});
  auto st = s.ping();
  REQUIRE(!st);
  CHECK(st.error().message() ==
        "registry reg.example: credentials for user \"bob\" were rejected (HTTP 401)");
}

TEST_CASE("an identity token is exchanged with the OAuth2 refresh-token grant") {
  FakeTransport t([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url == "https://auth.example/token") return response(200, R"({"access_token":"A"})");
    if (auth_of(r) == "Bearer A") return response(200);
    return response(401, "", {{"WWW-Authenticate", kBearer}});
  });
  Session s(t, "reg.example", "app", Access::kPull, Credential{.identity_token = "R1"});
  REQUIRE(s.send(Request{.target = "/v2/app/manifests/1"}));
  auto reqs = t.requests();
  REQUIRE(reqs.size() >= 2);
  CHECK(reqs[1].method == "POST");
  CHECK(reqs[1].body ==
        "grant_type=refresh_token&client_id=imgbuild&service=reg.example"
        "&scope=repository%3Aapp%3Apull&refresh_token=R1");
}

TEST_CASE("loopback registries are asked over plain HTTP first") {
  FakeTransport t([&](const HttpRequest&) -> Result<HttpResponse> { return response(200); });
  Session s(t, "127.0.0.1:5000", "app", Access::kPull, Credential{});
  REQUIRE(s.send(Request{.target = "/v2/app/manifests/1"}));
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].url == "http://127.0.0.1:5000/v2/");
  CHECK(reqs[1].url == "http://127.0.0.1:5000/v2/app/manifests/1");
}

TEST_CASE("an insecure registry that speaks TLS is used over HTTPS without verification") {
  FakeTransport t([&](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url.starts_with("http://")) {
      return response(400, "Client sent an HTTP request to an HTTPS server.");
    }
    return response(200);
  });
  Session s(t, "reg.lan:5000", "app", Access::kPull, Credential{},
            SessionOptions{.insecure_registries = {"reg.lan"}});
  REQUIRE(s.send(Request{.target = "/v2/app/manifests/1"}));
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].url == "http://reg.lan:5000/v2/");
  CHECK(reqs[1].url == "https://reg.lan:5000/v2/");
  CHECK(reqs[1].tls_verify == TlsVerify::kOff);
  CHECK(reqs[2].url == "https://reg.lan:5000/v2/app/manifests/1");
}

TEST_CASE("a non-loopback registry never falls back to plain HTTP") {
  FakeTransport t([&](const HttpRequest&) -> Result<HttpResponse> {
    return fail(ErrorKind::kNetwork, "GET https://reg.example/v2/: Could not connect");
  });
  std::vector<milliseconds> sleeps;
  Session s(t, "reg.example", "app", Access::kPull, Credential{}, recording(&sleeps));
  auto r = s.send(Request{.target = "/v2/app/manifests/1"});
  REQUIRE(!r);
  CHECK(r.error().message() ==
        "connecting to registry reg.example: GET https://reg.example/v2/: Could not connect");
  for (const auto& req : t.requests()) CHECK(req.url.starts_with("https://"));
}
