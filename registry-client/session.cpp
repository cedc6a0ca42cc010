#include "registry-client/session.h"

#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "base/log.h"
#include "registry-client/auth_challenge.h"
#include "registry-client/endpoint.h"
#include "registry-client/limits.h"
#include "registry-client/redirect.h"

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

// "https://host:port" of an absolute URL ("" when not absolute).
std::string origin_of(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  size_t path = url.find_first_of("/?#", scheme + 3);
  return std::string(url.substr(0, path));
}

std::string authority_of(std::string_view url) {
  std::string origin = origin_of(url);
  size_t scheme = origin.find("://");
  return scheme == std::string::npos ? "" : origin.substr(scheme + 3);
}

double jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

std::string http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string registry_error_summary(std::string_view body) {
  try {
    auto j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
      std::string out;
      for (const auto& e : j["errors"]) {
        if (!e.is_object()) continue;
        if (!out.empty()) out += "; ";
        out += e.value("code", "");
        std::string msg = e.value("message", "");
        if (!msg.empty()) out += (out.empty() ? "" : ": ") + msg;
      }
      return out;
    }
  } catch (const nlohmann::json::exception&) {
  }
  std::string text(body.substr(0, 200));
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

Session::Session(HttpTransport& transport, std::string registry, std::string repository,
                 Access access, Credential credential, SessionOptions options)
    : transport_(transport),
      registry_(std::move(registry)),
      host_(api_host(registry_)),
      repository_(std::move(repository)),
      access_(access),
      credential_(std::move(credential)),
      options_(std::move(options)) {
  auto env = insecure_registries_from_env();
  std::vector<std::string> all = options_.insecure_registries;
  all.insert(all.end(), env.begin(), env.end());
  insecure_ = allows_insecure(registry_, all);
}

void Session::add_pull_scope(const std::string& repository) {
  std::lock_guard lock(mu_);
  std::string scope = "repository:" + repository + ":pull";
  for (const auto& s : extra_scopes_) {
    if (s == scope) return;
  }
  extra_scopes_.push_back(scope);
  // Force a new token carrying the added scope.
  token_expiry_ = {};
}

void Session::sleep_for(std::chrono::milliseconds d) const {
  if (options_.sleep) {
    options_.sleep(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

std::string Session::scope_string() const {
  std::vector<std::string> scopes;
  if (!repository_.empty()) {
    scopes.push_back("repository:" + repository_ +
                     (access_ == Access::kPush ? ":pull,push" : ":pull"));
  }
  scopes.insert(scopes.end(), extra_scopes_.begin(), extra_scopes_.end());
  std::string out;
  for (const auto& s : scopes) out += "&scope=" + url_encode(s);
  return out;
}

std::string Session::resolve(std::string_view target) const {
  if (target.starts_with("http://") || target.starts_with("https://")) return std::string(target);
  std::lock_guard lock(mu_);
  if (target.starts_with('/')) return base_url_ + std::string(target);
  return base_url_ + "/" + std::string(target);
}

Error Session::status_error(std::string_view what, const HttpResponse& response) const {
  std::string msg = std::string(what) + ": " + registry_ + "/" + repository_ + ": HTTP " +
                    std::to_string(response.status);
  std::string reason = http_reason(response.status);
  if (!reason.empty()) msg += " " + reason;
  std::string summary = registry_error_summary(response.body);
  if (!summary.empty()) msg += ": " + summary;
  ErrorKind kind = ErrorKind::kRegistry;
  if (response.status == 404) kind = ErrorKind::kNotFound;
  if (response.status == 401 || response.status == 403) kind = ErrorKind::kPermission;
  return Error(kind, msg);
}

Status Session::ensure_ready() {
  {
    std::lock_guard lock(mu_);
    if (ready_) return {};
  }
  return ping();
}

Status Session::ping() {
  std::lock_guard lock(mu_);
  // Where plain HTTP is allowed, ask over HTTP first: a TLS handshake sent to a plain-HTTP
  // server may get no answer at all (the server waits for a request line), while a TLS server
  // answers a plain request at once with 400, which sends us on to HTTPS.
  std::vector<std::string> candidates = {"https://" + host_};
  if (insecure_) candidates.insert(candidates.begin(), "http://" + host_);
  std::optional<HttpResponse> answer;
  Error last(ErrorKind::kNetwork, "");
  for (size_t i = 0; i < candidates.size() && !answer; ++i) {
    bool last_candidate = i + 1 == candidates.size();
    HttpRequest req;
    req.url = candidates[i] + "/v2/";
    req.tls_verify = insecure_ ? TlsVerify::kOff : TlsVerify::kOn;
    int attempts = last_candidate ? options_.retry.max_attempts : 1;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      auto r = transport_.perform(req);
      if (!last_candidate) {
        if (r && (r->status == 200 || r->status == 401)) {
          answer = std::move(*r);
          base_url_ = candidates[i];
        } else if (!r) {
          last = r.error();
        }
        break;
      }
      if (r && !is_retryable_status(r->status)) {
        answer = std::move(*r);
        base_url_ = candidates[i];
        break;
      }
      if (!r) last = r.error();
      if (attempt < attempts) {
        auto ra = r ? r->header("Retry-After") : std::nullopt;
        sleep_for(retry_delay(options_.retry, attempt, ra, jitter(), std::time(nullptr)));
      } else if (r) {
        base_url_ = candidates[i];
        return fail(status_error("GET /v2/", *r));
      }
    }
  }
  if (!answer) return fail(last.with_context("connecting to registry " + registry_));
  if (answer->status == 401) {
    auto headers = answer->headers;
    std::vector<AuthChallenge> challenges;
    for (const auto& h : find_headers(headers, "WWW-Authenticate")) {
      auto parsed = parse_auth_challenges(h);
      if (!parsed) return fail(parsed.error().with_context("registry " + registry_));
      challenges.insert(challenges.end(), parsed->begin(), parsed->end());
    }
    for (const auto& c : challenges) {
      if (c.scheme == "bearer") {
        scheme_auth_ = "bearer";
        realm_ = c.param("realm");
        service_ = c.param("service");
        break;
      }
      if (c.scheme == "basic") scheme_auth_ = "basic";
    }
    if (scheme_auth_.empty()) {
      return fail(ErrorKind::kUnsupported,
                  "registry " + registry_ + " asks for an unsupported authentication scheme");
    }
    TRY(authenticate({}));
    if (!credential_.empty()) {
      // Verify the credentials now, as `docker login` does, so a wrong password fails here with
      // a clear message instead of as a 401 halfway through a push.
      HttpRequest req;
      req.url = base_url_ + "/v2/";
      req.tls_verify = insecure_ ? TlsVerify::kOff : TlsVerify::kOn;
      if (!authorization_.empty()) req.headers.emplace_back("Authorization", authorization_);
      auto r = TRY(transport_.perform(req));
      if (r.status == 401 || r.status == 403) {
        return fail(ErrorKind::kPermission, "registry " + registry_ + ": credentials for user \"" +
                                                credential_.username + "\" were rejected (HTTP " +
                                                std::to_string(r.status) + ")");
      }
    }
  } else if (answer->status != 200) {
    return fail(status_error("GET /v2/", *answer));
  }
  ready_ = true;
  return {};
}

// Called with mu_ held.
Status Session::authenticate(const std::vector<std::string>& extra_scopes) {
  if (scheme_auth_ == "basic") {
    if (!credential_.username.empty() || !credential_.password.empty()) {
      authorization_ = "Basic " + base64_encode(credential_.username + ":" + credential_.password);
    }
    return {};
  }
  if (scheme_auth_ != "bearer") return {};
  for (const auto& s : extra_scopes) {
    if (std::find(extra_scopes_.begin(), extra_scopes_.end(), s) == extra_scopes_.end()) {
      extra_scopes_.push_back(s);
    }
  }
  if (realm_.empty()) {
    return fail(ErrorKind::kRegistry, "registry " + registry_ + ": bearer challenge without realm");
  }
  std::string realm_auth = authority_of(realm_);
  std::string rh, rp;
  split_host_port(realm_auth, &rh, &rp);
  bool realm_plain = realm_.starts_with("http://");
  if (realm_plain && !credential_.empty() && !allows_insecure(realm_auth, {}) &&
      !(insecure_ && rh == host_.substr(0, host_.rfind(':')))) {
    return fail(ErrorKind::kPermission, "registry " + registry_ +
                                            ": refusing to send credentials to plain-HTTP token "
                                            "service " +
                                            redact_url(realm_));
  }
  HttpRequest req;
  req.tls_verify =
      (insecure_ || allows_insecure(realm_auth, {})) ? TlsVerify::kOff : TlsVerify::kOn;
  req.max_body = kMaxTokenResponseBytes;
  std::string scopes = scope_string();
  if (!credential_.identity_token.empty()) {
    // OAuth2 refresh-token grant (RFC 6749 section 6), as the token spec's "oauth" endpoint.
    req.method = "POST";
    req.url = realm_;
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    std::string scope_words;
    std::vector<std::string> all;
    if (!repository_.empty()) {
      all.push_back("repository:" + repository_ +
                    (access_ == Access::kPush ? ":pull,push" : ":pull"));
    }
    all.insert(all.end(), extra_scopes_.begin(), extra_scopes_.end());
    for (const auto& s : all) scope_words += (scope_words.empty() ? "" : " ") + s;
    req.body = "grant_type=refresh_token&client_id=imgbuild&service=" + url_encode(service_) +
               "&scope=" + url_encode(scope_words) +
               "&refresh_token=" + url_encode(credential_.identity_token);
  } else {
    req.url = realm_ + (realm_.find('?') == std::string::npos ? "?" : "&") +
              "service=" + url_encode(service_) + scopes;
    if (!credential_.username.empty()) {
      req.headers.emplace_back(
          "Authorization",
          "Basic " + base64_encode(credential_.username + ":" + credential_.password));
    }
  }
  Result<HttpResponse> r = fail(ErrorKind::kNetwork, "");
  for (int attempt = 1; attempt <= options_.retry.max_attempts; ++attempt) {
    r = transport_.perform(req);
    if (r && !is_retryable_status(r->status)) break;
    if (attempt < options_.retry.max_attempts) {
      auto ra = r ? r->header("Retry-After") : std::nullopt;
      sleep_for(retry_delay(options_.retry, attempt, ra, jitter(), std::time(nullptr)));
    }
  }
  std::string what = "token service " + redact_url(realm_) + " for " + registry_;
  if (!r) return fail(r.error().with_context(what));
  if (r->status == 401 || r->status == 403) {
    return fail(ErrorKind::kPermission,
                what + ": authentication failed" +
                    (credential_.username.empty() ? std::string()
                                                  : " for user \"" + credential_.username + "\"") +
                    " (HTTP " + std::to_string(r->status) + ")");
  }
  if (r->status != 200) {
    return fail(ErrorKind::kRegistry, what + ": HTTP " + std::to_string(r->status));
  }
  std::string token;
  long expires_in = 60;
  try {
    auto j = nlohmann::json::parse(r->body);
    if (j.contains("token") && j["token"].is_string()) token = j["token"].get<std::string>();
    if (token.empty() && j.contains("access_token") && j["access_token"].is_string()) {
      token = j["access_token"].get<std::string>();
    }
    if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
      expires_in = std::max<long>(j["expires_in"].get<long>(), 60);
    }
  } catch (const nlohmann::json::exception&) {
    return fail(ErrorKind::kRegistry, what + ": response is not JSON");
  }
  if (token.empty()) return fail(ErrorKind::kRegistry, what + ": response carries no token");
  authorization_ = "Bearer " + token;
  token_expiry_ = std::chrono::steady_clock::now() + std::chrono::seconds(expires_in);
  return {};
}

Result<HttpResponse> Session::send_once(const Request& request, const std::string& url,
                                        bool with_auth, TransferProgress* progress) {
  HttpRequest req;
  req.method = request.method;
  req.url = url;
  req.headers = request.headers;
  req.body = request.body;
  req.file_body = request.file_body;
  req.sink = request.sink;
  req.max_body = request.max_body;
  req.tls_verify = insecure_ ? TlsVerify::kOff : TlsVerify::kOn;
  if (with_auth) {
    std::lock_guard lock(mu_);
    if (scheme_auth_ == "bearer" &&
        std::chrono::steady_clock::now() + std::chrono::seconds(10) > token_expiry_) {
      TRY(authenticate({}));
    }
    if (!authorization_.empty()) req.headers.emplace_back("Authorization", authorization_);
  }
  return transport_.perform(req, progress);
}

Result<HttpResponse> Session::send(const Request& request, TransferProgress* progress) {
  TRY(ensure_ready());
  std::string url = resolve(request.target);
  std::string registry_authority = authority_of(base_url_);
  Request current = request;
  bool reauthenticated = false;
  int redirects = 0;
  for (int attempt = 1;;) {
    bool with_auth = authority_of(url) == registry_authority;
    TransferProgress local;
    auto r = send_once(current, url, with_auth, &local);
    if (progress != nullptr) *progress = local;
    std::string what = current.method + " " + redact_url(url);
    if (!r) {
      // Bytes already handed to a sink cannot be taken back: the caller resumes with Range.
      if (r.error().kind() != ErrorKind::kNetwork || (current.sink && local.delivered > 0) ||
          attempt >= options_.retry.max_attempts) {
        return fail(r.error().with_context(registry_ + "/" + repository_));
      }
      log::debug(r.error().message() + "; retrying");
      sleep_for(retry_delay(options_.retry, attempt, std::nullopt, jitter(), std::time(nullptr)));
      ++attempt;
      continue;
    }
    if (r->status == 401 && with_auth && !reauthenticated) {
      reauthenticated = true;
      std::vector<std::string> scopes;
      for (const auto& h : find_headers(r->headers, "WWW-Authenticate")) {
        auto parsed = parse_auth_challenges(h);
        if (!parsed) continue;
        for (const auto& c : *parsed) {
          // insufficient_scope names the scope the operation needs (a mount source, say).
          if (c.scheme == "bearer" && !c.param("scope").empty()) scopes.push_back(c.param("scope"));
        }
      }
      std::lock_guard lock(mu_);
      if (scheme_auth_ == "bearer") {
        token_expiry_ = {};
        TRY(authenticate(scopes));
        continue;
      }
    }
    if (is_retryable_status(r->status) && attempt < options_.retry.max_attempts) {
      log::debug(what + ": HTTP " + std::to_string(r->status) + "; retrying");
      sleep_for(retry_delay(options_.retry, attempt, r->header("Retry-After"), jitter(),
                            std::time(nullptr)));
      ++attempt;
      continue;
    }
    if (is_redirect(r->status) && (current.method == "GET" || current.method == "HEAD")) {
      auto location = r->header("Location");
      if (!location || location->empty()) return *r;
      if (++redirects > 10) {
        return fail(ErrorKind::kRegistry,
                    what + ": too many redirects (" + registry_ + "/" + repository_ + ")");
      }
      // Credentials never follow a redirect to another host (with_auth above); the scheme and
      // downgrade rules are resolve_redirect's.
      url = TRY_CTX(resolve_redirect(url, *location), what);
      continue;
    }
    return r;
  }
}

}  // namespace imgbuild::registry
