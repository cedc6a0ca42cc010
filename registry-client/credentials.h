// Registry credentials as Docker keeps them: ~/.docker/config.json (or $DOCKER_CONFIG/config.json)
// with "auths" (base64 "user:password", or an "identitytoken" for OAuth2 refresh), and
// "credHelpers" (per registry) / "credsStore" (default) naming a docker-credential-<name> program
// spoken to over stdin/stdout (get/store/erase). Unknown keys in config.json are preserved.
//
// A configured helper that is not installed means anonymous access with a warning, as Docker does.
// Secrets are never put in Error messages or logs; config.json is written atomically with mode
// 0600 in a 0700 directory.
// Thread safety: a CredentialStore is not thread-safe; load one per operation.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "base/error.h"

namespace imgbuild::registry {

struct Credential {
  std::string username;
  std::string password;
  std::string identity_token;  // OAuth2 refresh token (Docker's "identitytoken")
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

class CredentialStore {
 public:
  // $DOCKER_CONFIG, else $HOME/.docker.
  static std::string default_dir();
  // Reads dir/config.json; a missing file is an empty configuration. A malformed file is an error
  // naming the file (kParse).
  static Result<CredentialStore> load(std::string dir);

  // Credentials for registry (host[:port] or "docker.io"); empty when none are configured or the
  // helper is missing (warning logged).
  Result<Credential> get(std::string_view registry) const;
  // Saves through the registry's helper if one is configured, else into "auths" in config.json.
  Status store(std::string_view registry, const Credential& credential);
  // Removes the registry's credentials; kNotFound when there were none.
  Status erase(std::string_view registry);

  const std::string& path() const { return path_; }
  // The helper name that applies to registry ("" for the file).
  std::string helper_for(std::string_view registry) const;

 private:
  CredentialStore(std::string dir, nlohmann::json json)
      : dir_(std::move(dir)), path_(dir_ + "/config.json"), json_(std::move(json)) {}
  Status save() const;
  // The key under "auths" that names registry, if any (keys may carry a scheme or path).
  std::string find_auth_key(std::string_view registry) const;

  std::string dir_;
  std::string path_;
  nlohmann::json json_;
};

// Base64 as config.json uses it (standard alphabet, padded).
using imgbuild::base64_decode;
using imgbuild::base64_encode;

}  // namespace imgbuild::registry
