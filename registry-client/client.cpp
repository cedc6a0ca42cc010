#include "registry-client/client.h"

namespace imgbuild::registry {

Result<std::unique_ptr<Connection>> Connection::open(const std::string& registry,
                                                     const std::string& repository, Access access,
                                                     const ClientOptions& options) {
  auto conn = std::unique_ptr<Connection>(new Connection());
  HttpTransport* transport = options.transport;
  if (transport == nullptr) {
    conn->owned_transport_ = make_curl_transport();
    transport = conn->owned_transport_.get();
  }
  Credential credential;
  if (options.credential) {
    credential = *options.credential;
  } else {
    std::string dir = options.docker_config_dir.empty() ? CredentialStore::default_dir()
                                                        : options.docker_config_dir;
    auto creds = TRY(CredentialStore::load(dir));
    credential = TRY(creds.get(registry));
  }
  SessionOptions so;
  so.insecure_registries = options.insecure_registries;
  so.retry = options.retry;
  so.sleep = options.sleep;
  conn->session_ = std::make_unique<Session>(*transport, registry, repository, access,
                                             std::move(credential), std::move(so));
  return conn;
}

}  // namespace imgbuild::registry
