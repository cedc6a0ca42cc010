// A small in-memory OCI distribution registry (cpp-httplib) that misbehaves on request, for the
// faults the real registry will not produce: bearer tokens from a token endpoint, 429 with
// Retry-After, 5xx, a connection cut mid-blob, blob bytes that do not match their digest, a 307
// redirect of blob downloads to a second host, monolithic uploads refused (chunked only), and
// mounts that fail. Serves on 127.0.0.1 (a free port); a second listener on another port plays
// the blob storage behind the redirect and records the Authorization headers it receives.
//
// Faults are set through the public atomics before or between requests; counters say what
// happened. Handlers run on httplib's worker threads; the stored content is guarded by a mutex.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace imgbuild::testing {

class FaultRegistry {
 public:
  FaultRegistry();
  ~FaultRegistry();

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  // Content, as a push would leave it.
  void put_blob(const std::string& repo, const std::string& digest, const std::string& bytes);
  void put_manifest(const std::string& repo, const std::string& ref, const std::string& bytes,
                    const std::string& media_type);
  bool has_blob(const std::string& repo, const std::string& digest);
  std::string manifest(const std::string& repo, const std::string& ref);

  // ---- faults
  std::atomic<bool> bearer{false};           // require tokens from /token
  std::string token_user, token_password;    // when set, /token requires these (Basic)
  std::atomic<int> rate_limit{0};            // next N blob/manifest requests answer 429
  std::atomic<int> server_errors{0};         // next N blob/manifest requests answer 503
  std::atomic<int> cut_blob{0};              // next N blob GETs send half the bytes and close
  std::atomic<bool> corrupt_blobs{false};    // blob GETs serve flipped bytes
  std::atomic<bool> redirect_blobs{false};   // blob GETs 307 to the second host
  std::atomic<bool> chunked_only{false};     // PUT with a body on an upload answers 416
  std::atomic<bool> fail_mounts{false};      // mount requests answer 404
  std::atomic<bool> ignore_range{false};     // answer Range requests with the whole blob (200)
  void cut_only(const std::string& digest);  // cut_blob applies to this blob only ("" = any)

  // ---- observations
  std::atomic<int> token_requests{0};
  std::atomic<int> range_requests{0};
  std::atomic<int> partial_responses{0};     // 206 answers to Range requests
  std::vector<std::string> range_headers();  // every Range header received on a blob GET
  std::atomic<int> patch_requests{0};
  std::atomic<int> mounts{0};
  std::atomic<int> blob_uploads{0};  // blobs completed by upload (not mount)
  std::atomic<int> redirected_with_auth{0};
  std::atomic<int> redirected_downloads{0};

 private:
  void install_routes();
  void install_storage_routes();
  bool authorized(const std::string& header, const std::string& repo, bool push,
                  std::string* challenge);

  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<httplib::Server> storage_;
  std::thread server_thread_, storage_thread_;
  int port_ = 0;
  int storage_port_ = 0;

  std::mutex mu_;
  std::map<std::string, std::string> blobs_;  // digest -> bytes (repository-independent)
  std::map<std::string, std::set<std::string>> repo_blobs_;               // repo -> digests
  std::map<std::string, std::pair<std::string, std::string>> manifests_;  // repo:ref -> bytes, type
  std::map<std::string, std::string> uploads_;  // upload id -> bytes so far
  std::map<std::string, std::string> upload_repo_;
  std::map<std::string, std::string> tokens_;  // token -> scope list
  std::vector<std::string> range_headers_;
  std::string cut_digest_;
  int next_id_ = 0;
};

}  // namespace imgbuild::testing
