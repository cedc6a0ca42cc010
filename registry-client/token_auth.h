// Bearer tokens by the Docker token protocol (distribution's token spec): the registry's Bearer
// challenge names a realm (the token service) and a service; the client asks the realm for a
// token carrying the scopes it needs ("repository:app:pull,push"), with its username and password
// as Basic credentials (or none, for an anonymous token), or by the OAuth2 refresh-token grant
// (RFC 6749 section 6) when it holds an identity token. The request is retried per retry.h.
//
// Credentials are never sent to a plain-HTTP token service unless that service or the registry
// is one the user allowed to be insecure (same host). Errors: kPermission when the service
// rejects the credentials or the realm is refused, kRegistry for another status or a response
// without a token, the transport's error (kNetwork) when no answer came; messages name the token
// service (redacted), the registry and the user, never a secret.
// Thread-compatible: fetch_token shares nothing between calls.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/error.h"
#include "registry-client/credentials.h"
#include "registry-client/http.h"
#include "registry-client/retry.h"

namespace imgbuild::registry {

struct TokenRequest {
  std::string registry;   // as the user named it, for messages
  std::string host;       // the registry's API host:port
  bool insecure = false;  // the user allowed the registry without TLS verification
  std::string realm;      // from the Bearer challenge
  std::string service;    // from the Bearer challenge
  std::vector<std::string> scopes;
  Credential credential;
};

struct BearerToken {
  std::string token;
  std::chrono::seconds expires_in;  // at least 60 s, as the spec says
};

Result<BearerToken> fetch_token(HttpTransport& transport, const TokenRequest& request,
                                const RetryPolicy& policy, const SleepFunction& sleep);

}  // namespace imgbuild::registry
