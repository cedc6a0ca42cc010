#include "tests/integration/registry/fault_registry.h"

#include <httplib.h>

#include <optional>

#include "base/sha256.h"
#include "registry-client/credentials.h"

namespace imgbuild::testing {
namespace {

bool take(std::atomic<int>& counter) {
  int n = counter.load();
  while (n > 0 && !counter.compare_exchange_weak(n, n - 1)) {
  }
  return n > 0;
}

void error_body(httplib::Response& res, int status, const std::string& code,
                const std::string& message) {
  res.status = status;
  res.set_content(R"({"errors":[{"code":")" + code + R"(","message":")" + message + R"("}]})",
                  "application/json");
}

std::string sha256_digest(const std::string& bytes) { return "sha256:" + Sha256::hex_of(bytes); }

// Splits "/v2/<repo>/<kind>/<rest>" where kind is blobs/uploads, blobs or manifests.
bool split_path(const std::string& path, std::string* repo, std::string* kind, std::string* rest) {
  for (const char* k : {"/blobs/uploads/", "/blobs/uploads", "/blobs/", "/manifests/"}) {
    size_t at = path.rfind(k);
    if (at != std::string::npos && at > 4) {
      *repo = path.substr(4, at - 4);
      *kind = k;
      *rest = path.substr(at + std::string(k).size());
      if (*kind == "/blobs/uploads") *kind = "/blobs/uploads/";
      return true;
    }
  }
  return false;
}

}  // namespace

FaultRegistry::FaultRegistry()
    : server_(std::make_unique<httplib::Server>()), storage_(std::make_unique<httplib::Server>()) {
  install_routes();
  install_storage_routes();
  port_ = server_->bind_to_any_port("127.0.0.1");
  storage_port_ = storage_->bind_to_any_port("127.0.0.1");
  server_thread_ = std::thread([this] { server_->listen_after_bind(); });
  storage_thread_ = std::thread([this] { storage_->listen_after_bind(); });
}

FaultRegistry::~FaultRegistry() {
  server_->stop();
  storage_->stop();
  server_thread_.join();
  storage_thread_.join();
}

void FaultRegistry::put_blob(const std::string& repo, const std::string& digest,
                             const std::string& bytes) {
  std::lock_guard lock(mu_);
  blobs_[digest] = bytes;
  repo_blobs_[repo].insert(digest);
}

void FaultRegistry::put_manifest(const std::string& repo, const std::string& ref,
                                 const std::string& bytes, const std::string& media_type) {
  std::lock_guard lock(mu_);
  manifests_[repo + ":" + ref] = {bytes, media_type};
  manifests_[repo + ":" + sha256_digest(bytes)] = {bytes, media_type};
}

bool FaultRegistry::has_blob(const std::string& repo, const std::string& digest) {
  std::lock_guard lock(mu_);
  return repo_blobs_[repo].count(digest) > 0;
}

void FaultRegistry::cut_only(const std::string& digest) {
  std::lock_guard lock(mu_);
  cut_digest_ = digest;
}

void FaultRegistry::serve_endless(const std::string& digest) {
  std::lock_guard lock(mu_);
  blob_modes_[digest] = {BlobMode::kEndless, ""};
}

void FaultRegistry::serve_short(const std::string& digest) {
  std::lock_guard lock(mu_);
  blob_modes_[digest] = {BlobMode::kShort, ""};
}

void FaultRegistry::redirect_blob(const std::string& digest, const std::string& location) {
  std::lock_guard lock(mu_);
  blob_modes_[digest] = {BlobMode::kRedirect, location};
}

void FaultRegistry::put_huge_manifest(const std::string& repo, const std::string& ref,
                                      uint64_t size, int status) {
  std::lock_guard lock(mu_);
  huge_manifests_[repo + ":" + ref] = {size, status};
}

std::vector<std::string> FaultRegistry::range_headers() {
  std::lock_guard lock(mu_);
  return range_headers_;
}

std::string FaultRegistry::manifest(const std::string& repo, const std::string& ref) {
  std::lock_guard lock(mu_);
  auto it = manifests_.find(repo + ":" + ref);
  return it == manifests_.end() ? "" : it->second.first;
}

bool FaultRegistry::authorized(const std::string& header, const std::string& repo, bool push,
                               std::string* challenge) {
  if (!bearer) return true;
  std::string needed = "repository:" + repo + (push ? ":pull,push" : ":pull");
  *challenge = R"(Bearer realm="http://)" + host() + R"(/token",service="fault-registry")" +
               (repo.empty() ? "" : R"(,scope=")" + needed + "\"");
  if (!header.starts_with("Bearer ")) return false;
  std::lock_guard lock(mu_);
  auto it = tokens_.find(header.substr(7));
  if (it == tokens_.end()) return false;
  if (repo.empty()) return true;
  const std::string& scopes = it->second;
  bool ok = scopes.find("repository:" + repo + ":pull") != std::string::npos;
  if (push) ok = scopes.find("repository:" + repo + ":pull,push") != std::string::npos;
  return ok;
}

void FaultRegistry::install_storage_routes() {
  storage_->Get(R"(/blobs/(.*))", [this](const httplib::Request& req, httplib::Response& res) {
    ++redirected_downloads;
    if (req.has_header("Authorization")) ++redirected_with_auth;
    std::lock_guard lock(mu_);
    auto it = blobs_.find(req.matches[1]);
    if (it == blobs_.end()) {
      res.status = 404;
      return;
    }
    res.set_content(it->second, "application/octet-stream");
  });
}

void FaultRegistry::install_routes() {
  server_->Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
    ++token_requests;
    if (!token_user.empty()) {
      std::string want = "Basic " + registry::base64_encode(token_user + ":" + token_password);
      if (req.get_header_value("Authorization") != want) {
        res.status = 401;
        res.set_content(R"({"details":"incorrect username or password"})", "application/json");
        return;
      }
    }
    std::string scopes;
    for (size_t i = 0; i < req.get_param_value_count("scope"); ++i) {
      scopes += req.get_param_value("scope", i) + " ";
    }
    std::string token;
    {
      std::lock_guard lock(mu_);
      token = "tok-" + std::to_string(++next_id_);
      tokens_[token] = scopes;
    }
    res.set_content(R"({"token":")" + token + R"(","expires_in":300})", "application/json");
  });

  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Docker-Distribution-Api-Version", "registry/2.0");
    std::string auth = req.get_header_value("Authorization");
    std::string challenge;
    if (req.path == "/v2/" || req.path == "/v2") {
      if (!authorized(auth, "", false, &challenge)) {
        res.set_header("WWW-Authenticate", challenge);
        return error_body(res, 401, "UNAUTHORIZED", "authentication required");
      }
      res.set_content("{}", "application/json");
      return;
    }
    std::string repo, kind, rest;
    if (!split_path(req.path, &repo, &kind, &rest)) {
      return error_body(res, 404, "NAME_UNKNOWN", "no route");
    }
    bool write = req.method == "PUT" || req.method == "POST" || req.method == "PATCH";
    if (!authorized(auth, repo, write, &challenge)) {
      res.set_header("WWW-Authenticate", challenge);
      return error_body(res, 401, "UNAUTHORIZED", "authentication required");
    }
    if (kind != "/blobs/uploads/") {
      if (take(rate_limit)) {
        res.set_header("Retry-After", "1");
        return error_body(res, 429, "TOOMANYREQUESTS", "slow down");
      }
      if (take(server_errors)) return error_body(res, 503, "UNAVAILABLE", "try later");
    }

    if (kind == "/manifests/") {
      std::lock_guard lock(mu_);
      if (req.method == "PUT") {
        std::string type = req.get_header_value("Content-Type");
        std::string digest = sha256_digest(req.body);
        manifests_[repo + ":" + rest] = {req.body, type};
        manifests_[repo + ":" + digest] = {req.body, type};
        res.status = 201;
        res.set_header("Docker-Content-Digest", digest);
        res.set_header("Location", "/v2/" + repo + "/manifests/" + digest);
        return;
      }
      if (auto huge = huge_manifests_.find(repo + ":" + rest); huge != huge_manifests_.end()) {
        res.status = huge->second.second;
        res.set_content_provider(huge->second.first, "application/vnd.oci.image.manifest.v1+json",
                                 [this](size_t offset, size_t length, httplib::DataSink& sink) {
                                   std::string chunk(std::min<size_t>(length, 64 * 1024), ' ');
                                   if (offset == 0) chunk[0] = '{';
                                   generated_bytes += chunk.size();
                                   return sink.write(chunk.data(), chunk.size());
                                 });
        return;
      }
      auto it = manifests_.find(repo + ":" + rest);
      if (it == manifests_.end())
        return error_body(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
      res.set_header("Docker-Content-Digest", sha256_digest(it->second.first));
      res.set_content(it->second.first, it->second.second);
      return;
    }

    if (kind == "/blobs/") {
      std::string bytes;
      {
        std::lock_guard lock(mu_);
        auto it = blobs_.find(rest);
        if (it == blobs_.end() || repo_blobs_[repo].count(rest) == 0) {
          return error_body(res, 404, "BLOB_UNKNOWN", "blob unknown to registry");
        }
        bytes = it->second;
      }
      std::optional<std::pair<BlobMode, std::string>> mode;
      {
        std::lock_guard lock(mu_);
        if (auto m = blob_modes_.find(rest); m != blob_modes_.end()) mode = m->second;
      }
      if (mode && req.method == "GET") {
        switch (mode->first) {
          case BlobMode::kRedirect:
            res.status = 307;
            res.set_header("Location", mode->second);
            return;
          case BlobMode::kShort:
            res.set_content(bytes.substr(0, bytes.size() / 2), "application/octet-stream");
            return;
          case BlobMode::kEndless:
            res.set_chunked_content_provider("application/octet-stream",
                                             [this](size_t offset, httplib::DataSink& sink) {
                                               if (offset >= kEndlessCap) {
                                                 sink.done();
                                                 return true;
                                               }
                                               std::string chunk(64 * 1024, 'x');
                                               generated_bytes += chunk.size();
                                               return sink.write(chunk.data(), chunk.size());
                                             });
            return;
        }
      }
      if (redirect_blobs && req.method == "GET") {
        res.status = 307;
        res.set_header("Location",
                       "http://127.0.0.1:" + std::to_string(storage_port_) + "/blobs/" + rest);
        return;
      }
      if (corrupt_blobs && !bytes.empty()) bytes[bytes.size() / 2] ^= 0x55;
      bool cut_this = false;
      {
        std::lock_guard lock(mu_);
        cut_this = cut_digest_.empty() || cut_digest_ == rest;
      }
      if (req.method == "GET" && cut_this && take(cut_blob)) {
        auto shared = std::make_shared<std::string>(bytes);
        res.set_content_provider(bytes.size(), "application/octet-stream",
                                 [shared](size_t, size_t, httplib::DataSink& sink) {
                                   sink.write(shared->data(), shared->size() / 2);
                                   return false;  // drop the connection mid-body
                                 });
        return;
      }
      if (req.has_header("Range")) {
        ++range_requests;
        std::lock_guard lock(mu_);
        range_headers_.push_back(req.get_header_value("Range"));
      }
      if (req.has_header("Range") && ignore_range) {
        // httplib slices bodies for Range requests itself; a content provider with status 200
        // set explicitly is what a Range-ignoring server looks like.
        res.status = 200;
        auto shared = std::make_shared<std::string>(bytes);
        res.set_chunked_content_provider(
            "application/octet-stream", [shared](size_t offset, httplib::DataSink& sink) {
              if (offset < shared->size()) {
                sink.write(shared->data() + offset, shared->size() - offset);
              } else {
                sink.done();
              }
              return true;
            });
        return;
      }
      res.set_header("Docker-Content-Digest", rest);
      if (req.method == "GET" && req.has_header("Range")) {
        // Only the single open-ended form a resuming client sends ("bytes=N-") is served, with
        // an explicit 206 and Content-Range; httplib's own range handling is bypassed (a chunked
        // provider is never sliced) so the test sees exactly what this registry answered.
        std::string range = req.get_header_value("Range");
        size_t from = 0;
        if (!range.starts_with("bytes=") || !range.ends_with("-") ||
            (from = std::strtoull(range.c_str() + 6, nullptr, 10)) >= bytes.size()) {
          res.status = 416;
          res.set_header("Content-Range", "bytes */" + std::to_string(bytes.size()));
          return;
        }
        ++partial_responses;
        res.status = 206;
        res.set_header("Content-Range", "bytes " + std::to_string(from) + "-" +
                                            std::to_string(bytes.size() - 1) + "/" +
                                            std::to_string(bytes.size()));
        auto rest_of = std::make_shared<std::string>(bytes.substr(from));
        res.set_chunked_content_provider(
            "application/octet-stream", [rest_of](size_t offset, httplib::DataSink& sink) {
              if (offset < rest_of->size()) {
                sink.write(rest_of->data() + offset, rest_of->size() - offset);
              } else {
                sink.done();
              }
              return true;
            });
        return;
      }
      res.set_content(bytes, "application/octet-stream");
      return;
    }

    // Uploads.
    std::lock_guard lock(mu_);
    if (req.method == "POST") {
      if (req.has_param("mount")) {
        std::string digest = req.get_param_value("mount");
        std::string from = req.get_param_value("from");
        if (fail_mounts) return error_body(res, 404, "BLOB_UNKNOWN", "mount failed");
        if (repo_blobs_[from].count(digest) > 0) {
          repo_blobs_[repo].insert(digest);
          ++mounts;
          res.status = 201;
          res.set_header("Location", "/v2/" + repo + "/blobs/" + digest);
          res.set_header("Docker-Content-Digest", digest);
          return;
        }
      }
      std::string id = "u" + std::to_string(++next_id_);
      uploads_[id] = "";
      upload_repo_[id] = repo;
      res.status = 202;
      res.set_header("Location", "/v2/" + repo + "/blobs/uploads/" + id + "?_state=opaque");
      res.set_header("Docker-Upload-UUID", id);
      res.set_header("Range", "0-0");
      return;
    }
    auto up = uploads_.find(rest);
    if (up == uploads_.end()) return error_body(res, 404, "BLOB_UPLOAD_UNKNOWN", "no upload");
    if (req.method == "PATCH") {
      ++patch_requests;
      std::string range = req.get_header_value("Content-Range");
      if (range.empty() || std::stoull(range.substr(0, range.find('-'))) != up->second.size()) {
        return error_body(res, 416, "BLOB_UPLOAD_INVALID", "bad Content-Range");
      }
      up->second += req.body;
      res.status = 202;
      res.set_header("Location", "/v2/" + repo + "/blobs/uploads/" + rest);
      res.set_header("Range", "0-" + std::to_string(up->second.size() - 1));
      return;
    }
    if (req.method == "PUT") {
      if (chunked_only && !req.body.empty()) {
        return error_body(res, 416, "BLOB_UPLOAD_INVALID", "chunked uploads only");
      }
      std::string bytes = up->second + req.body;
      std::string digest = req.get_param_value("digest");
      if (sha256_digest(bytes) != digest) {
        return error_body(res, 400, "DIGEST_INVALID", "provided digest did not match");
      }
      blobs_[digest] = bytes;
      repo_blobs_[repo].insert(digest);
      uploads_.erase(up);
      ++blob_uploads;
      res.status = 201;
      res.set_header("Location", "/v2/" + repo + "/blobs/" + digest);
      res.set_header("Docker-Content-Digest", digest);
      return;
    }
    error_body(res, 405, "UNSUPPORTED", "method not allowed");
  };
  server_->Get(R"(/v2/?.*)", handle);
  server_->Put(R"(/v2/.*)", handle);
  server_->Post(R"(/v2/.*)", handle);
  server_->Patch(R"(/v2/.*)", handle);
  server_->Delete(R"(/v2/.*)", handle);
}

}  // namespace imgbuild::testing
