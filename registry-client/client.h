// Options shared by pull, push and login, and how they become a Session: the transport (libcurl
// unless a test injects one), the credentials for the registry (config.json / credential helpers
// unless given explicitly), insecure-registry rules and retry policy.
// Thread safety: a Connection is used by one operation; its Session is shared by that
// operation's worker threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "registry-client/credentials.h"
#include "registry-client/http.h"
#include "registry-client/progress.h"
#include "registry-client/retry.h"
#include "registry-client/session.h"

namespace imgbuild::registry {

struct ClientOptions {
  std::vector<std::string> insecure_registries;  // --insecure-registry; env is added by Session
  std::string docker_config_dir;                 // empty: CredentialStore::default_dir()
  std::optional<Credential> credential;          // set: use instead of config.json
  RetryPolicy retry;
  std::function<void(std::chrono::milliseconds)> sleep;  // tests: record instead of sleeping
  HttpTransport* transport = nullptr;                    // borrowed; nullptr: libcurl
  Progress* progress = nullptr;                          // borrowed; may be nullptr
  int parallel = 4;                                      // concurrent blob transfers
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& registry,
                                                  const std::string& repository, Access access,
                                                  const ClientOptions& options);
  Session& session() { return *session_; }

 private:
  std::unique_ptr<HttpTransport> owned_transport_;
  std::unique_ptr<Session> session_;
};

}  // namespace imgbuild::registry
