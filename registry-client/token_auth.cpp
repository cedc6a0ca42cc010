#include "registry-client/token_auth.h"

#include <nlohmann/json.hpp>

#include "registry-client/endpoint.h"
#include "registry-client/limits.h"

namespace imgbuild::registry {
namespace {

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

HttpRequest token_http_request(const TokenRequest& t) {
  std::string realm_auth = url_authority(t.realm);
  HttpRequest req;
  req.tls_verify =
      (t.insecure || allows_insecure(realm_auth, {})) ? TlsVerify::kOff : TlsVerify::kOn;
  req.max_body = kMaxTokenResponseBytes;
  const Credential& c = t.credential;
  if (!c.identity_token.empty()) {
    // OAuth2 refresh-token grant (RFC 6749 section 6), as the token spec's "oauth" endpoint.
    req.method = "POST";
    req.url = t.realm;
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    std::string scope_words;
    for (const auto& s : t.scopes) scope_words += (scope_words.empty() ? "" : " ") + s;
    req.body = "grant_type=refresh_token&client_id=imgbuild&service=" + url_encode(t.service) +
               "&scope=" + url_encode(scope_words) +
               "&refresh_token=" + url_encode(c.identity_token);
  } else {
    std::string scopes;
    for (const auto& s : t.scopes) scopes += "&scope=" + url_encode(s);
    req.url = t.realm + (t.realm.find('?') == std::string::npos ? "?" : "&") +
              "service=" + url_encode(t.service) + scopes;
    if (!c.username.empty()) {
      req.headers.emplace_back("Authorization",
                               "Basic " + base64_encode(c.username + ":" + c.password));
    }
  }
  return req;
}

}  // namespace

Result<BearerToken> fetch_token(HttpTransport& transport, const TokenRequest& t,
                                const RetryPolicy& policy, const SleepFunction& sleep) {
  if (t.realm.empty()) {
    return fail(ErrorKind::kRegistry,
                "registry " + t.registry + ": bearer challenge without realm");
  }
  std::string realm_auth = url_authority(t.realm);
  std::string rh, rp;
  split_host_port(realm_auth, &rh, &rp);
  bool realm_plain = t.realm.starts_with("http://");
  if (realm_plain && !t.credential.empty() && !allows_insecure(realm_auth, {}) &&
      !(t.insecure && rh == t.host.substr(0, t.host.rfind(':')))) {
    return fail(ErrorKind::kPermission, "registry " + t.registry +
                                            ": refusing to send credentials to plain-HTTP token "
                                            "service " +
                                            redact_url(t.realm));
  }
  HttpRequest req = token_http_request(t);
  req.connect_timeout = policy.connect_seconds;
  req.low_speed_timeout = policy.stall_seconds;
  auto r = perform_with_retries(transport, req, policy, sleep);
  std::string what = "token service " + redact_url(t.realm) + " for " + t.registry;
  if (!r) return fail(r.error().with_context(what));
  if (r->status == 401 || r->status == 403) {
    return fail(ErrorKind::kPermission, what + ": authentication failed" +
                                            (t.credential.username.empty()
                                                 ? std::string()
                                                 : " for user \"" + t.credential.username + "\"") +
                                            " (HTTP " + std::to_string(r->status) + ")");
  }
  if (r->status != 200) {
    return fail(ErrorKind::kRegistry, what + ": HTTP " + std::to_string(r->status));
  }
  BearerToken out{"", std::chrono::seconds(60)};
  try {
    auto j = nlohmann::json::parse(r->body);
    if (j.contains("token") && j["token"].is_string()) out.token = j["token"].get<std::string>();
    if (out.token.empty() && j.contains("access_token") && j["access_token"].is_string()) {
      out.token = j["access_token"].get<std::string>();
    }
    if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
      out.expires_in = std::chrono::seconds(std::max<long>(j["expires_in"].get<long>(), 60));
    }
  } catch (const nlohmann::json::exception&) {
    return fail(ErrorKind::kRegistry, what + ": response is not JSON");
  }
  if (out.token.empty()) return fail(ErrorKind::kRegistry, what + ": response carries no token");
  return out;
}

}  // namespace imgbuild::registry
