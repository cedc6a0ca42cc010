#include "registry-client/credentials.h"

#include <cstdlib>

#include "base/fs.h"
#include "base/log.h"
#include "base/subprocess.h"
#include "registry-client/endpoint.h"

namespace imgbuild::registry {
namespace {

// The helper protocol identifies Docker Hub by its v1 URL and other registries by host.
std::string helper_server_url(std::string_view registry) { return credential_key(registry); }

struct HelperOutcome {
  bool missing = false;
  ProcessResult result;
};

Result<HelperOutcome> run_helper(const std::string& helper, const std::string& verb,
                                 const std::string& input) {
  ProcessOptions options;
  options.stdin_data = input;
  auto r = run_process({"docker-credential-" + helper, verb}, options);
  if (!r) {
    if (r.error().errno_value() == ENOENT) return HelperOutcome{.missing = true};
    return fail(r.error().with_context("credential helper docker-credential-" + helper));
  }
  return HelperOutcome{.result = std::move(*r)};
}

// Helper output may echo what it was given; report only the first line of stdout/stderr, which
// for the reference helpers is an error text ("credentials not found in native keychain").
std::string helper_message(const ProcessResult& r) {
  std::string text = r.err.empty() ? r.out : r.err;
  text = text.substr(0, text.find('\n'));
  if (text.size() > 200) text.resize(200);
  return text;
}

}  // namespace

std::string CredentialStore::default_dir() {
  if (const char* d = std::getenv("DOCKER_CONFIG"); d != nullptr && *d != '\0') return d;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : "/root") + "/.docker";
}

Result<CredentialStore> CredentialStore::load(std::string dir) {
  std::string path = dir + "/config.json";
  if (!fs::exists(path)) return CredentialStore(std::move(dir), nlohmann::json::object());
  std::string text = TRY(fs::read_file(path));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // Only the position: the parser's own message quotes the text it read, which may be a secret.
    return fail(ErrorKind::kParse, path + ": invalid JSON at byte " + std::to_string(e.byte));
  } catch (const nlohmann::json::exception&) {
    return fail(ErrorKind::kParse, path + ": invalid JSON");
  }
  if (!json.is_object()) return fail(ErrorKind::kParse, path + ": not a JSON object");
  return CredentialStore(std::move(dir), std::move(json));
}

std::string CredentialStore::helper_for(std::string_view registry) const {
  std::string reg = normalize_registry(registry);
  if (auto it = json_.find("credHelpers"); it != json_.end() && it->is_object()) {
    for (const auto& [key, value] : it->items()) {
      if (normalize_registry(key) == reg && value.is_string()) return value.get<std::string>();
    }
  }
  if (auto it = json_.find("credsStore"); it != json_.end() && it->is_string()) {
    return it->get<std::string>();
  }
  return "";
}

std::string CredentialStore::find_auth_key(std::string_view registry) const {
  std::string reg = normalize_registry(registry);
  auto it = json_.find("auths");
  if (it == json_.end() || !it->is_object()) return "";
  for (const auto& [key, value] : it->items()) {
    if (normalize_registry(key) == reg) return key;
  }
  return "";
}

Result<Credential> CredentialStore::get(std::string_view registry) const {
  std::string helper = helper_for(registry);
  if (!helper.empty()) {
    auto outcome = TRY(run_helper(helper, "get", helper_server_url(registry)));
    if (outcome.missing) {
      log::warn("credential helper docker-credential-" + helper + " not found; accessing " +
                std::string(registry) + " anonymously");
      return Credential{};
    }
    if (outcome.result.exit_code != 0) {
      // "credentials not found" is the normal answer for a registry never logged in to.
      log::debug("docker-credential-" + helper + " get: " + helper_message(outcome.result));
      return Credential{};
    }
    try {
      auto j = nlohmann::json::parse(outcome.result.out);
      Credential c;
      std::string user = j.value("Username", "");
      std::string secret = j.value("Secret", "");
      if (user == "<token>") {
        c.identity_token = secret;
      } else {
        c.username = user;
        c.password = secret;
      }
      return c;
    } catch (const nlohmann::json::exception&) {
      return fail(ErrorKind::kParse,
                  "docker-credential-" + helper + " get: output is not valid JSON");
    }
  }
  std::string key = find_auth_key(registry);
  if (key.empty()) return Credential{};
  const auto& entry = json_["auths"][key];
  Credential c;
  if (entry.is_object()) {
    if (auto a = entry.find("auth"); a != entry.end() && a->is_string()) {
      auto decoded = base64_decode(a->get<std::string>());
      if (!decoded) {
        return fail(ErrorKind::kParse, path_ + ": auths." + key + ".auth is not valid base64");
      }
      size_t colon = decoded->find(':');
      if (colon == std::string::npos) {
        return fail(ErrorKind::kParse,
                    path_ + ": auths." + key + ".auth is not base64 of \"user:password\"");
      }
      c.username = decoded->substr(0, colon);
      c.password = decoded->substr(colon + 1);
    }
    if (auto t = entry.find("identitytoken"); t != entry.end() && t->is_string()) {
      c.identity_token = t->get<std::string>();
    }
  }
  return c;
}

Status CredentialStore::save() const {
  TRY(fs::make_dirs(dir_, 0700));
  return fs::write_file_atomic(path_, json_.dump(1, '\t') + "\n", 0600);
}

Status CredentialStore::store(std::string_view registry, const Credential& credential) {
  std::string helper = helper_for(registry);
  if (!helper.empty()) {
    nlohmann::json in = {
        {"ServerURL", helper_server_url(registry)},
        {"Username", credential.identity_token.empty() ? credential.username : "<token>"},
        {"Secret",
         credential.identity_token.empty() ? credential.password : credential.identity_token}};
    auto outcome = TRY(run_helper(helper, "store", in.dump()));
    if (outcome.missing) {
      return fail(ErrorKind::kNotFound, "credential helper docker-credential-" + helper +
                                            " is configured in " + path_ + " but not installed");
    }
    if (outcome.result.exit_code != 0) {
      return fail(ErrorKind::kIo, "docker-credential-" + helper +
                                      " store failed: " + helper_message(outcome.result));
    }
    // Docker also leaves an empty entry in auths so `docker login` lists the registry.
    json_["auths"][credential_key(registry)] = nlohmann::json::object();
    return save();
  }
  std::string key = find_auth_key(registry);
  if (key.empty()) key = credential_key(registry);
  nlohmann::json entry = nlohmann::json::object();
  if (!credential.identity_token.empty()) {
    entry["identitytoken"] = credential.identity_token;
  } else {
    entry["auth"] = base64_encode(credential.username + ":" + credential.password);
  }
  json_["auths"][key] = entry;
  return save();
}

Status CredentialStore::erase(std::string_view registry) {
  std::string helper = helper_for(registry);
  bool found = false;
  if (!helper.empty()) {
    auto outcome = TRY(run_helper(helper, "erase", helper_server_url(registry)));
    if (outcome.missing) {
      log::warn("credential helper docker-credential-" + helper + " not found");
    } else if (outcome.result.exit_code == 0) {
      found = true;
    }
  }
  std::string key = find_auth_key(registry);
  if (!key.empty()) {
    json_["auths"].erase(key);
    found = true;
    TRY(save());
  }
  if (!found) {
    return fail(ErrorKind::kNotFound,
                "not logged in to " + normalize_registry(registry) + " (" + path_ + ")");
  }
  return {};
}

}  // namespace imgbuild::registry
