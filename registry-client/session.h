// A conversation with one repository on one registry: picks the scheme (HTTPS; plain HTTP only
// where endpoint.h allows it), authenticates (anonymous, Basic, or Bearer tokens fetched by
// token_auth.h from the challenge's realm), retries with retry.h's retry_request, and follows
// redirects itself so the registry's Authorization header never reaches another host (blob
// storage behind a 307).
//
// Thread safety: send() may be called from several threads; the token is shared under a mutex.
// Errors: kNetwork when no answer came after the retries; kRegistry for an error status, with a
// message naming the registry, repository, request and HTTP status (and the registry's error
// code); never a credential or token. A redirect is followed only where redirect.h allows (a
// refusal is kRegistry), and collected bodies are capped as limits.h says (kLimit).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "registry-client/credentials.h"
#include "registry-client/http.h"
#include "registry-client/limits.h"
#include "registry-client/retry.h"

namespace imgbuild::registry {

enum class Access { kPull, kPush };

struct SessionOptions {
  std::vector<std::string> insecure_registries;  // plus IMGBUILD_INSECURE_REGISTRIES
  RetryPolicy retry;
  // How to wait between retries; tests record instead of sleeping.
  SleepFunction sleep;
};

struct Request {
  std::string method = "GET";
  // A path starting with "/v2/" on the registry, or an absolute URL the registry handed out
  // (upload Location).
  std::string target;
  Headers headers;
  std::string body;
  std::optional<FileBody> file_body;
  std::function<Status(int status, std::string_view data)> sink;
  size_t max_body = kMaxResponseBodyBytes;  // for a collected (non-sink) body
};

class Session {
 public:
  // registry: host[:port] as in a reference ("docker.io" is mapped to its API host).
  Session(HttpTransport& transport, std::string registry, std::string repository, Access access,
          Credential credential, SessionOptions options = {});

  const std::string& registry() const { return registry_; }
  const std::string& repository() const { return repository_; }

  // Asks for pull access to another repository as well (the source of a cross-repo mount); takes
  // effect at the next token request.
  void add_pull_scope(const std::string& repository);

  // GET /v2/ and authenticate. Called by send() on first use; login calls it to verify
  // credentials (kPermission when the registry rejects them).
  Status ping();

  // Sends the request with auth, retries and redirects; returns the final response whatever its
  // status (callers judge 404 etc.). progress, if given, reports bytes delivered to the sink when
  // a download broke part-way (no retry is made then: the caller resumes with Range).
  Result<HttpResponse> send(const Request& request, TransferProgress* progress = nullptr);

  // The error for an unexpected response: "<what>: <registry>/<repository>: HTTP 404 Not Found:
  // MANIFEST_UNKNOWN: manifest unknown".
  Error status_error(std::string_view what, const HttpResponse& response) const;

  // Absolute URL for a registry path or a (possibly relative) Location header.
  std::string resolve(std::string_view target) const;

  // Waits between retries: SessionOptions::sleep when set (tests record instead of sleeping).
  void sleep_for(std::chrono::milliseconds d) const;

 private:
  Status ensure_ready();
  Status authenticate(const std::vector<std::string>& extra_scopes);
  Result<HttpResponse> send_once(const Request& request, const std::string& url, bool with_auth,
                                 TransferProgress* progress);
  std::vector<std::string> scopes() const;
  SleepFunction sleeper() const;
  // The retry policy's per-try connect and stall timeouts.
  void set_timeouts(HttpRequest& req) const;

  HttpTransport& transport_;
  std::string registry_;
  std::string host_;  // API host:port
  std::string repository_;
  Access access_;
  Credential credential_;
  SessionOptions options_;
  bool insecure_ = false;

  mutable std::mutex mu_;  // guards everything below
  bool ready_ = false;
  enum class AuthScheme { kAnonymous, kBasic, kBearer };

  std::string base_url_;  // "https://host:port"
  AuthScheme auth_scheme_ = AuthScheme::kAnonymous;
  std::string realm_, service_;  // of the Bearer challenge
  std::vector<std::string> extra_scopes_;
  std::string authorization_;  // header value; never logged
  std::chrono::steady_clock::time_point token_expiry_{};
};

// Error text of a registry JSON error body ("CODE: message"), or a trimmed excerpt of other text.
std::string registry_error_summary(std::string_view body);
std::string http_reason(int status);

}  // namespace imgbuild::registry
