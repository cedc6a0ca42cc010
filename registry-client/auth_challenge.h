// Parsing of WWW-Authenticate challenges (RFC 7235) as registries send them:
//   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull"
//   Basic realm="Registry Realm"
// One header may carry several challenges; parameter names are case-insensitive (kept lowercase),
// values may be quoted strings with backslash escapes or plain tokens.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::registry {

struct AuthChallenge {
  std::string scheme;                         // lowercase: "bearer", "basic"
  std::map<std::string, std::string> params;  // lowercase names
  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

// Errors (kParse) name the offending header text position.
Result<std::vector<AuthChallenge>> parse_auth_challenges(std::string_view header);

}  // namespace imgbuild::registry
