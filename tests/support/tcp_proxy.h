// A TCP relay on a loopback port in front of a test server (the registry), for tests that count
// what a client transfers or make the server disappear (issue 15's lazy-mount acceptance):
//
//   auto proxy = TcpProxy::start(reg.port()).value();
//   proxy->host()   -> "127.0.0.1:40123"; use it in place of reg.host()
//   proxy->bytes()  -> bytes relayed so far, both ways
//   proxy->set_refusing(true)  -> open connections are cut, new ones closed at once
//   proxy->set_stalling(true)  -> connections stay open but nothing more is relayed
//
// One thread accepts; each connection is relayed by a thread of its own until either side
// closes. The destructor cuts everything and joins the threads. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace imgbuild::testing {

class TcpProxy {
 public:
  static Result<std::unique_ptr<TcpProxy>> start(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  uint64_t bytes() const { return up_ + down_; }
  uint64_t bytes_to_server() const { return up_; }
  uint64_t bytes_to_client() const { return down_; }
  // Refusing: every open connection is cut and new ones are closed as soon as accepted.
  void set_refusing(bool refusing);
  // Stalling: connections are accepted and kept, but no byte goes through either way (a registry
  // that hangs mid-answer) until it is set back.
  void set_stalling(bool stalling) { stalling_ = stalling; }

 private:
  TcpProxy() = default;
  void accept_loop();
  void relay(UniqueFd client, uint64_t generation);

  int port_ = 0;
  int target_port_ = 0;
  UniqueFd listener_;
  UniqueFd stop_read_, stop_write_;  // a pipe: written to stop the accept loop
  std::atomic<uint64_t> up_{0}, down_{0};
  std::atomic<bool> refusing_{false};
  std::atomic<bool> stalling_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> generation_{0};  // bumped to cut the connections open now
  std::mutex mu;                         // guards threads_
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace imgbuild::testing
