#include "registry-client/session.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/log.h"
#include "registry-client/auth_challenge.h"
#include "registry-client/endpoint.h"
#include "registry-client/limits.h"
#include "registry-client/redirect.h"
#include "registry-client/token_auth.h"

namespace imgbuild::registry {
namespace {

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

SleepFunction Session::sleeper() const {
  return [this](std::chrono::milliseconds d) { sleep_for(d); };
}

void Session::sleep_for(std::chrono::milliseconds d) const {
  if (options_.sleep) {
    options_.sleep(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

std::vector<std::string> Session::scopes() const {
  std::vector<std::string> out;
  if (!repository_.empty()) {
    out.push_back("repository:" + repository_ +
                  (access_ == Access::kPush ? ":pull,push" : ":pull"));
  }
  out.insert(out.end(), extra_scopes_.begin(), extra_scopes_.end());
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
    set_timeouts(req);
    RetryPolicy policy = options_.retry;
    if (!last_candidate) policy.max_attempts = 1;
    auto r = perform_with_retries(transport_, req, policy, sleeper());
    if (!r) {
      last = std::move(r).error();
    } else if (!last_candidate) {
      if (r->status == 200 || r->status == 401) {
        answer = std::move(*r);
        base_url_ = candidates[i];
      }
    } else {
      base_url_ = candidates[i];
      if (is_retryable_status(r->status)) return fail(status_error("GET /v2/", *r));
      answer = std::move(*r);
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
        auth_scheme_ = AuthScheme::kBearer;
        realm_ = c.param("realm");
        service_ = c.param("service");
        break;
      }
      if (c.scheme == "basic") auth_scheme_ = AuthScheme::kBasic;
    }
    if (auth_scheme_ == AuthScheme::kAnonymous) {
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
      set_timeouts(req);
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
  if (auth_scheme_ == AuthScheme::kBasic) {
    if (!credential_.username.empty() || !credential_.password.empty()) {
      authorization_ = "Basic " + base64_encode(credential_.username + ":" + credential_.password);
    }
    return {};
  }
  if (auth_scheme_ != AuthScheme::kBearer) return {};
  for (const auto& s : extra_scopes) {
    if (std::find(extra_scopes_.begin(), extra_scopes_.end(), s) == extra_scopes_.end()) {
      extra_scopes_.push_back(s);
    }
  }
  TokenRequest request{.registry = registry_,
                       .host = host_,
                       .insecure = insecure_,
                       .realm = realm_,
                       .service = service_,
                       .scopes = scopes(),
                       .credential = credential_};
  BearerToken token = TRY(fetch_token(transport_, request, options_.retry, sleeper()));
  authorization_ = "Bearer " + token.token;
  token_expiry_ = std::chrono::steady_clock::now() + token.expires_in;
  return {};
}

void Session::set_timeouts(HttpRequest& req) const {
  req.connect_timeout = options_.retry.connect_seconds;
  req.low_speed_timeout = options_.retry.stall_seconds;
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
  set_timeouts(req);
  if (with_auth) {
    std::lock_guard lock(mu_);
    if (auth_scheme_ == AuthScheme::kBearer &&
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
  std::string registry_authority = url_authority(base_url_);
  bool reauthenticated = false;
  int redirects = 0;
  return retry_request(options_.retry, sleeper(), [&](int) -> TryOutcome {
    bool with_auth = url_authority(url) == registry_authority;
    TransferProgress local;
    auto r = send_once(request, url, with_auth, &local);
    if (progress != nullptr) *progress = local;
    std::string what = request.method + " " + redact_url(url);
    if (!r) {
      std::string note = r.error().message();
      // Bytes already handed to a sink cannot be taken back: the caller resumes with Range.
      bool transient =
          r.error().kind() == ErrorKind::kNetwork && !(request.sink && local.delivered > 0);
      return {fail(std::move(r).error().with_context(registry_ + "/" + repository_)),
              transient ? NextStep::kRetry : NextStep::kReturn, note};
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
      if (auth_scheme_ == AuthScheme::kBearer) {
        token_expiry_ = {};
        if (auto st = authenticate(scopes); !st) return {fail(st.error()), NextStep::kReturn, ""};
        return {std::move(r), NextStep::kRepeat, ""};
      }
    }
    if (is_retryable_status(r->status)) {
      return {std::move(r), NextStep::kRetry, what + ": HTTP " + std::to_string(r->status)};
    }
    if (is_redirect(r->status) && (request.method == "GET" || request.method == "HEAD")) {
      auto location = r->header("Location");
      if (!location || location->empty()) return {std::move(r), NextStep::kReturn, ""};
      if (++redirects > 10) {
        return {fail(ErrorKind::kRegistry,
                     what + ": too many redirects (" + registry_ + "/" + repository_ + ")"),
                NextStep::kReturn, ""};
      }
      // Credentials never follow a redirect to another host (with_auth above); the scheme and
      // downgrade rules are resolve_redirect's.
      auto next = resolve_redirect(url, *location);
      if (!next) return {fail(std::move(next).error().with_context(what)), NextStep::kReturn, ""};
      url = std::move(*next);
      return {std::move(r), NextStep::kRepeat, ""};
    }
    return {std::move(r), NextStep::kReturn, ""};
  });
}

}  // namespace imgbuild::registry
