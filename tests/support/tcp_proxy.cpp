#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/eintr.h"

namespace imgbuild::testing {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Writes all of data; false when the peer went away.
bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = sys::retry_eintr([&] { return ::send(fd, data, size, MSG_NOSIGNAL); });
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<TcpProxy>> TcpProxy::start(int target_port) {
  std::unique_ptr<TcpProxy> p(new TcpProxy());
  p->target_port_ = target_port;
  p->listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!p->listener_) return fail_errno("socket", "proxy");
  sockaddr_in addr = loopback(0);
  if (::bind(p->listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    return fail_errno("bind", "proxy");
  }
  if (::listen(p->listener_.get(), 64) < 0) return fail_errno("listen", "proxy");
  socklen_t len = sizeof(addr);
  if (::getsockname(p->listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return fail_errno("getsockname", "proxy");
  }
  p->port_ = ntohs(addr.sin_port);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return fail_errno("pipe2", "proxy");
  p->stop_read_.reset(fds[0]);
  p->stop_write_.reset(fds[1]);
  p->acceptor_ = std::thread([raw = p.get()] { raw->accept_loop(); });
  return p;
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  ++generation_;
  (void)!::write(stop_write_.get(), "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard lock(mu);
  for (auto& t : threads_) t.join();
}

void TcpProxy::set_refusing(bool refusing) {
  refusing_ = refusing;
  if (refusing) ++generation_;
}

void TcpProxy::accept_loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client || refusing_) continue;  // closed at once
    std::lock_guard lock(mu);
    threads_.emplace_back([this, c = std::move(client), g = generation_.load()]() mutable {
      relay(std::move(c), g);
    });
  }
}

void TcpProxy::relay(UniqueFd client, uint64_t generation) {
  UniqueFd server(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = loopback(target_port_);
  if (!server || ::connect(server.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    return;
  }
  char buf[65536];
  // Poll with a short timeout so a cut (generation bump) takes effect on an idle connection.
  while (generation_ == generation) {
    if (stalling_) {
      ::poll(nullptr, 0, 20);
      continue;
    }
    pollfd fds[2] = {{client.get(), POLLIN, 0}, {server.get(), POLLIN, 0}};
    int n = sys::retry_eintr([&] { return ::poll(fds, 2, 100); });
    if (n < 0) return;
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (!fds[i].revents) continue;
      int from = i == 0 ? client.get() : server.get();
      int to = i == 0 ? server.get() : client.get();
      ssize_t got = ::recv(from, buf, sizeof(buf), 0);
      if (got <= 0) return;
      if (generation_ != generation) return;
      (i == 0 ? up_ : down_) += static_cast<uint64_t>(got);
      if (!send_all(to, buf, static_cast<size_t>(got))) return;
    }
  }
}

}  // namespace imgbuild::testing
