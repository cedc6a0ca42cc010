// A real CNCF distribution registry (Debian's `docker-registry`) for tests: started on a free
// loopback port with a temporary config and storage, killed and removed on destruction.
//
//   auto& reg = RegistryServer::shared(RegistryServer::Auth::kNone);  // once per test run
//   reg.host()  -> "127.0.0.1:43817"
//
// shared() starts one server per auth mode on first use and keeps it until the test program
// exits (function-local statics), so a test run pays the start-up once. start() gives a private
// server. available() is false when docker-registry or htpasswd is not installed; tests then WARN
// and return. Not thread-safe (Catch2 runs tests on one thread).
#pragma once

#include <memory>
#include <string>

#include "base/error.h"
#include "base/fs.h"
#include "base/subprocess.h"

namespace imgbuild::testing {

class RegistryServer {
 public:
  enum class Auth { kNone, kHtpasswd };
  static constexpr const char* kUser = "tester";
  static constexpr const char* kPassword = "s3cret-Pa55word";

  static bool available();
  static Result<std::unique_ptr<RegistryServer>> start(Auth auth);
  // Aborts the test (FAIL) when the server cannot start.
  static RegistryServer& shared(Auth auth);

  ~RegistryServer();
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  // The registry's own log (stderr), for failure messages.
  std::string log() const;

 private:
  RegistryServer(fs::TempDir dir) : dir_(std::move(dir)) {}
  fs::TempDir dir_;
  Child child_;
  std::string host_;
  int port_ = 0;
};

// A free TCP port on 127.0.0.1 (bound and released; racy but fine for tests).
Result<int> free_loopback_port();
// Waits until something accepts connections on 127.0.0.1:port.
Status wait_for_port(int port, int timeout_ms);
// Starts argv in the background with stdout and stderr to log_path; the Child kills it on
// destruction.
Result<Child> spawn_background(const std::vector<std::string>& argv, const std::string& log_path);

}  // namespace imgbuild::testing
