#include "registry-client/manifest_fetch.h"

#include <nlohmann/json.hpp>

#include "image/media_types.h"
#include "registry-client/limits.h"
#include "registry-client/pull.h"

namespace imgbuild::registry {
namespace mt = image::media_types;
namespace {

std::string bare_media_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

}  // namespace

Result<FetchedManifest> fetch_manifest(Session& session, const std::string& reference,
                                       const std::optional<image::Digest>& expected) {
  Request req;
  req.target = "/v2/" + session.repository() + "/manifests/" + reference;
  req.headers.emplace_back("Accept", manifest_accept_header());
  req.max_body = kMaxManifestBytes;
  auto sent = session.send(req);
  if (!sent && sent.error().kind() == ErrorKind::kLimit) {
    return fail(ErrorKind::kLimit, "manifest " + reference + ": " + session.registry() + "/" +
                                       session.repository() + " sent more than " +
                                       limit_text(kMaxManifestBytes) +
                                       ", the limit for a manifest or index");
  }
  auto r = TRY(std::move(sent));
  if (r.status != 200) return fail(session.status_error("GET manifest " + reference, r));
  FetchedManifest m;
  m.digest = image::Digest::of(r.body);
  m.content_type = bare_media_type(r.header("Content-Type").value_or(""));
  if (expected && m.digest != *expected) {
    return fail(ErrorKind::kCorrupt, session.registry() + "/" + session.repository() +
                                         ": manifest " + reference + " has digest " +
                                         m.digest.str() + ", expected " + expected->str());
  }
  if (auto header = r.header("Docker-Content-Digest"); header && !expected) {
    // The header is the registry's claim for a tag; a mismatch means a broken or hostile
    // registry or proxy, and the bytes' own digest is what the store will use either way.
    if (*header != m.digest.str()) {
      return fail(ErrorKind::kCorrupt, session.registry() + "/" + session.repository() +
                                           ": manifest " + reference + " hashes to " +
                                           m.digest.str() + " but the registry says " + *header);
    }
  }
  if (m.content_type != mt::kOciManifest && m.content_type != mt::kOciIndex &&
      m.content_type != mt::kDockerManifest && m.content_type != mt::kDockerManifestList) {
    m.content_type.clear();  // generic or missing: let the document's mediaType decide
  }
  m.bytes = std::move(r.body);
  return m;
}

bool is_index_document(const FetchedManifest& m) {
  if (!m.content_type.empty()) return mt::is_index(m.content_type);
  try {
    auto j = nlohmann::json::parse(m.bytes);
    if (j.contains("mediaType") && j["mediaType"].is_string()) {
      return mt::is_index(j["mediaType"].get<std::string>());
    }
    return j.contains("manifests") && !j.contains("layers");
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace imgbuild::registry
