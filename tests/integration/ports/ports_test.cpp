// Published ports end to end (the real binary, real namespaces, loopback only): a web-server
// image built by imgbuild from the busybox base, `run -d -p`, HTTP through the forward, UDP echo,
// conflicts, 200 concurrent connections, forwards closed when the container exits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/subprocess.h"
#include "base/unique_fd.h"
#include "tests/support/imgbuild_cli.h"
#include "tests/support/skip.h"

namespace imgbuild {
namespace {

using namespace std::chrono_literals;

// One store with busybox and the web image for the whole run (built once, on first use).
struct Env : testing::ImgbuildCli {
  Env() : ImgbuildCli("imgbuild-ports-") {
    std::string ctx = dir.path() + "/web";
    REQUIRE(fs::make_dirs(ctx));
    REQUIRE(fs::write_file_atomic(ctx + "/Dockerfile",
                                  "FROM busybox:test\n"
                                  "RUN mkdir -p /www && echo 'hello through a published port' > "
                                  "/www/index.html\n"
                                  "EXPOSE 80\n"
                                  "CMD [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n"));
    auto built = run({"build", "-t", "web:test", ctx});
    INFO(built.err);
    REQUIRE(built.exit_code == 0);
  }
};

Env& env() {
  static Env e;
  return e;
}

bool cannot_run() {
  if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) {
    return !::imgbuild::testing::skip("published-port tests need root and /dev/fuse");
  }
  return false;
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// True when a TCP (or UDP) socket can bind 127.0.0.1:port right now.
bool port_free(uint16_t port, int type = SOCK_STREAM) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(port);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

// A port that is free for both TCP and UDP now (the kernel's pick for an ephemeral bind).
uint16_t free_port() {
  for (;;) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback(0);
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
    uint16_t port = ntohs(a.sin_port);
    fd.reset();
    if (port_free(port, SOCK_DGRAM)) return port;
  }
}

// One HTTP/1.0 GET of / on 127.0.0.1:port; the whole response, "" when the connection failed.
std::string http_get(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return "";
  std::string req = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) < 0) return "";
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Retries until the server in the container answers (it starts after `run -d` returns).
std::string http_get_when_up(uint16_t port) {
  auto deadline = std::chrono::steady_clock::now() + 15s;
  for (;;) {
    std::string r = http_get(port);
    if (!r.empty() || std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(50ms);
  }
}

std::string udp_roundtrip(uint16_t port, const std::string& msg) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(port);
  REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  for (int attempt = 0; attempt < 50; ++attempt) {  // the server may not be bound yet
    (void)::send(fd.get(), msg.data(), msg.size(), 0);
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) {
      char buf[2048];
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n > 0) return std::string(buf, static_cast<size_t>(n));
    }
  }
  return "";
}

// A container command that serves /www on port 80 until something connects to its port 81 and
// closes: the test, not a timer, decides when the container exits.
constexpr const char* kServeUntilQuit = "httpd -p 80 -h /www; nc -l -p 81 >/dev/null";

// Connects to a published port 81 and closes again (nc in the container then exits). Harmless
// when nothing listens yet: the caller repeats it until the container is gone.
void ask_to_quit(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    (void)!::write(fd.get(), "quit\n", 5);
  }
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

const std::string kPage = "hello through a published port\n";

TEST_CASE("run -d -p serves a page built by imgbuild; stop and rm free the port", "[integration]") {
  if (cannot_run()) return;
  Env& e = env();
  uint16_t port = free_port();
  std::string mapping = "127.0.0.1:" + std::to_string(port) + ":80";
  auto ran = e.run({"run", "-d", "-p", mapping, "--name", "web", "web:test"});
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);

  std::string response = http_get_when_up(port);
  INFO(response);
  CHECK(response.starts_with("HTTP/1.1 200 OK"));
  CHECK(response.ends_with(kPage));

  auto ps = e.run({"ps"});
  CHECK(ps.out.find("PORTS") != std::string::npos);
  CHECK(ps.out.find("127.0.0.1:" + std::to_string(port) + "->80/tcp") != std::string::npos);
  auto listed = e.run({"port", "web"});
  CHECK(listed.out == "80/tcp -> 127.0.0.1:" + std::to_string(port) + "\n");
  auto one = e.run({"port", "web", "80"});
  CHECK(one.out == "127.0.0.1:" + std::to_string(port) + "\n");
  auto missing = e.run({"port", "web", "81/tcp"});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("No public port '81/tcp' published for web") != std::string::npos);

  CHECK_FALSE(port_free(port));
  CHECK(e.run({"stop", "web"}).exit_code == 0);
  CHECK(port_free(port));
  CHECK(e.run({"rm", "web"}).exit_code == 0);
  CHECK(port_free(port));
  CHECK(http_get(port).empty());
}

TEST_CASE("UDP echo through -p PORT:PORT/udp", "[integration]") {
  if (cannot_run()) return;
  Env& e = env();
  uint16_t port = free_port();
  std::string p = std::to_string(port);
  auto ran = e.run({"run", "-d", "--rm", "-v", std::string(UDP_ECHO_BINARY) + ":/udp_echo:ro", "-p",
                    p + ":" + p + "/udp", "--name", "echo", "busybox:test", "/udp_echo", p});
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  CHECK(udp_roundtrip(port, "ping 1") == "ping 1");
  CHECK(udp_roundtrip(port, std::string(1400, 'x')) == std::string(1400, 'x'));
  CHECK(e.run({"port", "echo"}).out == p + "/udp -> 0.0.0.0:" + p + "\n");
  CHECK(e.run({"rm", "-f", "echo"}).exit_code == 0);
  CHECK(wait_until([&] { return port_free(port, SOCK_DGRAM); }));
}

TEST_CASE("two containers publish different ports; the same host port twice is refused",
          "[integration]") {
  if (cannot_run()) return;
  Env& e = env();
  uint16_t a = free_port(), b = free_port();
  while (b == a) b = free_port();
  auto r1 = e.run(
      {"run", "-d", "-p", "127.0.0.1:" + std::to_string(a) + ":80", "--name", "web-a", "web:test"});
  auto r2 = e.run(
      {"run", "-d", "-p", "127.0.0.1:" + std::to_string(b) + ":80", "--name", "web-b", "web:test"});
  REQUIRE(r1.exit_code == 0);
  REQUIRE(r2.exit_code == 0);
  CHECK(http_get_when_up(a).ends_with(kPage));
  CHECK(http_get_when_up(b).ends_with(kPage));

  auto clash = e.run({"run", "-d", "-p", "127.0.0.1:" + std::to_string(a) + ":80", "--name",
                      "web-clash", "web:test"});
  CHECK(clash.exit_code == 125);
  CHECK(clash.err.find("Bind for 127.0.0.1:" + std::to_string(a) +
                       "/tcp failed: port is already "
                       "allocated") != std::string::npos);
  CHECK(e.run({"ps", "-a"}).out.find("web-clash") == std::string::npos);  // nothing created
  CHECK(http_get(a).ends_with(kPage));  // the first container is untouched

  // Twice in one run is refused as well.
  uint16_t c = free_port();
  std::string twice = "127.0.0.1:" + std::to_string(c) + ":80";
  auto dup = e.run({"run", "--rm", "-p", twice, "-p", twice, "web:test", "true"});
  CHECK(dup.exit_code == 125);
  CHECK(dup.err.find("port is already allocated") != std::string::npos);

  CHECK(e.run({"rm", "-f", "web-a", "web-b"}).exit_code == 0);
  CHECK(port_free(a));
  CHECK(port_free(b));
}

TEST_CASE("200 concurrent connections through one published port", "[integration]") {
  if (cannot_run()) return;
  Env& e = env();
  uint16_t port = free_port();
  auto ran = e.run({"run", "-d", "-p", "127.0.0.1:" + std::to_string(port) + ":80", "--name",
                    "web-many", "web:test"});
  REQUIRE(ran.exit_code == 0);
  REQUIRE(http_get_when_up(port).ends_with(kPage));

  constexpr int kClients = 200;
  std::atomic<int> ok{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      // All connect first, then all ask: 200 connections are open through the proxy at once.
      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      timeval tv{30, 0};
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      sockaddr_in a = loopback(port);
      bool connected = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ready.fetch_add(1);
      while (ready.load() < kClients) std::this_thread::sleep_for(1ms);
      if (!connected) return;
      std::string req = "GET / HTTP/1.0\r\n\r\n";
      if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) < 0) return;
      std::string out;
      char buf[4096];
      for (;;) {
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
      }
      if (out.ends_with(kPage)) ok.fetch_add(1);
    });
  }
  for (auto& t : clients) t.join();
  CHECK(ok.load() == kClients);
  CHECK(e.run({"rm", "-f", "web-many"}).exit_code == 0);
}

TEST_CASE("a container that exits closes its forwards", "[integration]") {
  if (cannot_run()) return;
  Env& e = env();
  uint16_t port = free_port();
  uint16_t quit = free_port();
  while (quit == port) quit = free_port();
  auto ran = e.run({"run", "-d", "-p", "127.0.0.1:" + std::to_string(port) + ":80", "-p",
                    "127.0.0.1:" + std::to_string(quit) + ":81", "--name", "short", "web:test",
                    "sh", "-c", kServeUntilQuit});
  REQUIRE(ran.exit_code == 0);
  CHECK(http_get_when_up(port).ends_with(kPage));
  CHECK_FALSE(port_free(port));
  CHECK(wait_until(
      [&] {
        ask_to_quit(quit);
        return e.run({"ps", "-q"}).out.empty();
      },
      60s));
  CHECK(port_free(port));
  CHECK(e.run({"rm", "short"}).exit_code == 0);
}

TEST_CASE("-p with a container port only, -P, and --network host", "[integration]") {
  if (cannot_run()) return;
  Env& e = env();
  auto ran = e.run({"run", "-d", "-p", "127.0.0.1::80", "--name", "web-any", "web:test"});
  REQUIRE(ran.exit_code == 0);
  std::string mapping = e.run({"port", "web-any", "80/tcp"}).out;
  REQUIRE(mapping.starts_with("127.0.0.1:"));
  uint16_t port = static_cast<uint16_t>(std::stoi(mapping.substr(10)));
  CHECK(port != 0);
  CHECK(http_get_when_up(port).ends_with(kPage));

  auto all = e.run({"run", "-d", "-P", "--name", "web-all", "web:test"});
  REQUIRE(all.exit_code == 0);
  std::string exposed = e.run({"port", "web-all"}).out;
  REQUIRE(exposed.starts_with("80/tcp -> 0.0.0.0:"));
  uint16_t all_port = static_cast<uint16_t>(std::stoi(exposed.substr(18)));
  CHECK(http_get_when_up(all_port).ends_with(kPage));

  auto host = e.run({"run", "--rm", "--network", "host", "-p", "8080:80", "busybox:test", "true"});
  CHECK(host.exit_code == 0);
  CHECK(host.err.find("WARNING: Published ports are discarded when using host network mode") !=
        std::string::npos);

  auto bad = e.run({"run", "--rm", "-p", "80:99999", "busybox:test", "true"});
  CHECK(bad.exit_code == 125);
  CHECK(bad.err.find("invalid port specification: \"80:99999\"") != std::string::npos);
  CHECK(e.run({"rm", "-f", "web-any", "web-all"}).exit_code == 0);
}

TEST_CASE("a foreground run publishes too", "[integration]") {
  if (cannot_run()) return;
  Env& e = env();
  uint16_t port = free_port();
  uint16_t quit = free_port();
  while (quit == port) quit = free_port();
  std::string response;
  std::atomic<bool> done{false};
  std::thread client([&] {
    response = http_get_when_up(port);
    while (!done.load()) {
      ask_to_quit(quit);
      std::this_thread::sleep_for(50ms);
    }
  });
  // httpd serves in the background inside the container; the shell exits once asked to.
  auto ran =
      e.run({"run", "--rm", "-p", "127.0.0.1:" + std::to_string(port) + ":80", "-p",
             "127.0.0.1:" + std::to_string(quit) + ":81", "web:test", "sh", "-c", kServeUntilQuit});
  done = true;
  client.join();
  CHECK(ran.exit_code == 0);
  CHECK(response.ends_with(kPage));
  CHECK(port_free(port));
}

}  // namespace
}  // namespace imgbuild
