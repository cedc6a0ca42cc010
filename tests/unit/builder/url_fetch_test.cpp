// ADD <url> errors keep what went wrong: the HTTP status an arbitrary server answered (not a
// "registry" error), and a failed write's errno (ENOSPC from a full disk).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "base/fs.h"
#include "builder/url_fetch.h"

using namespace imgbuild;

namespace {

// Answers one HTTP request on loopback with a fixed response, then closes.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    REQUIRE(::listen(fd_, 1) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

 private:
  void serve() {
    int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(conn, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    size_t off = 0;
    while (off < response_.size()) {
      ssize_t n = ::write(conn, response_.data() + off, response_.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(conn);
  }

  std::string response_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

std::string http_response(int status, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         std::string(body);
}

}  // namespace

TEST_CASE("ADD url: a 404 is 'not found' naming the URL and the status, not a registry error") {
  OneShotServer server(http_response(404, "no such file"));
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  std::string url = server.url("/files/app.tar");
  auto got = builder::fetch_url(url, dir->path(), "");
  REQUIRE(!got);
  CHECK(got.error().kind() == ErrorKind::kNotFound);
  CHECK(got.error().message() ==
        "ADD " + url + ": invalid response status: the server answered HTTP 404");
}

TEST_CASE("ADD url: a 500 is a network error naming the status") {
  OneShotServer server(http_response(500, ""));
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  auto got = builder::fetch_url(server.url("/x"), dir->path(), "");
  REQUIRE(!got);
  CHECK(got.error().kind() == ErrorKind::kNetwork);
  CHECK(got.error().message().find("HTTP 500") != std::string::npos);
}

TEST_CASE("ADD url: a write that fails keeps its errno (ENOSPC) and the file it wrote") {
  // The file is named after the URL's last component: "full" in /dev is /dev/full, which takes
  // no bytes.
  OneShotServer server(http_response(200, std::string(100000, 'x')));
  auto got = builder::fetch_url(server.url("/full"), "/dev", "");
  REQUIRE(!got);
  CHECK(got.error().errno_value() == ENOSPC);
  CHECK(got.error().message().find("/dev/full") != std::string::npos);
  CHECK(got.error().message().find("ADD " + server.url("/full")) == 0);
}

TEST_CASE("ADD url: the body is stored and its checksum checked") {
  OneShotServer server(http_response(200, "hello\n"));
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  auto got = builder::fetch_url(server.url("/greeting.txt?x=1"), dir->path(), "");
  REQUIRE(got);
  CHECK(got->name == "greeting.txt");
  CHECK(got->sha256_hex == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  CHECK(*fs::read_file(fs::join(dir->path(), "greeting.txt")) == "hello\n");
}
