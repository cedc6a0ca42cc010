#include "tests/support/registry_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <thread>

#include "base/sys.h"

namespace imgbuild::testing {

Result<int> free_loopback_port() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return fail_errno("socket", "AF_INET");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail_errno("bind", "127.0.0.1:0");
  }
  socklen_t len = sizeof addr;
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return fail_errno("getsockname", "127.0.0.1");
  }
  return ntohs(addr.sin_port);
}

Status wait_for_port(int port, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return fail(ErrorKind::kNetwork, "nothing listens on 127.0.0.1:" + std::to_string(port) +
                                       " after " + std::to_string(timeout_ms) + " ms");
}

Result<Child> spawn_background(const std::vector<std::string>& argv, const std::string& log_path) {
  UniqueFd log = TRY(sys::open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork", argv[0]);
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(log.get(), 1);
    ::dup2(log.get(), 2);
    // Dies with the test program even if it is killed before destructors run.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return Child(pid);
}

bool RegistryServer::available() {
  return ::access("/usr/bin/docker-registry", X_OK) == 0 &&
         ::access("/usr/bin/htpasswd", X_OK) == 0;
}

Result<std::unique_ptr<RegistryServer>> RegistryServer::start(Auth auth) {
  auto dir = TRY(fs::TempDir::create("/tmp", "imgbuild-registry-"));
  std::unique_ptr<RegistryServer> server(new RegistryServer(std::move(dir)));
  const std::string& d = server->dir_.path();
  std::string config =
      "version: 0.1\n"
      "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
      "storage:\n  filesystem:\n    rootdirectory: " +
      d +
      "/data\n"
      "  delete:\n    enabled: true\n"
      "  maintenance:\n    uploadpurging:\n      enabled: false\n";
  if (auth == Auth::kHtpasswd) {
    auto r = TRY(run_process({"htpasswd", "-B", "-b", "-c", d + "/htpasswd", kUser, kPassword}));
    if (r.exit_code != 0) return fail(ErrorKind::kIo, "htpasswd failed: " + r.err);
    config += "auth:\n  htpasswd:\n    realm: imgbuild-test\n    path: " + d + "/htpasswd\n";
  }
  for (int tries = 0;; ++tries) {
    int port = TRY(free_loopback_port());
    std::string cfg = config + "http:\n  addr: 127.0.0.1:" + std::to_string(port) + "\n";
    TRY(fs::write_file_atomic(d + "/config.yml", cfg));
    server->child_ =
        TRY(spawn_background({"docker-registry", "serve", d + "/config.yml"}, d + "/registry.log"));
    auto ready = wait_for_port(port, 15000);
    if (ready) {
      server->port_ = port;
      server->host_ = "127.0.0.1:" + std::to_string(port);
      return server;
    }
    server->child_ = Child();
    if (tries >= 2) return fail(ready.error().with_context("docker-registry: " + server->log()));
  }
}

RegistryServer& RegistryServer::shared(Auth auth) {
  static std::map<Auth, std::unique_ptr<RegistryServer>> servers;
  auto& slot = servers[auth];
  if (!slot) {
    auto r = start(auth);
    if (!r) FAIL("starting docker-registry: " << r.error().message());
    slot = std::move(*r);
  }
  return *slot;
}

RegistryServer::~RegistryServer() {
  if (child_.running()) {
    child_.signal(SIGKILL);
    (void)child_.wait();
  }
}

std::string RegistryServer::log() const {
  auto text = fs::read_file(dir_.path() + "/registry.log");
  return text ? *text : std::string();
}

}  // namespace imgbuild::testing
