#include "runtime/port_forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "base/eintr.h"
#include "base/log.h"
#include "base/sys.h"
#include "base/unique_fd.h"

namespace imgbuild::runtime {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kUdpFlowIdle = std::chrono::seconds(90);  // Docker's userland proxy: 90 s
constexpr size_t kUdpMaxFlows = 4096;
constexpr int kPipeSize = 1 << 20;

Result<sockaddr_storage> host_address(const PortMapping& port, socklen_t& len) {
  sockaddr_storage ss{};
  const std::string ip = port.host_ip.empty() ? "0.0.0.0" : port.host_ip;
  if (ip.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port.host_port);
    if (::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1) {
      return fail(ErrorKind::kInvalidArgument, "invalid host IP " + ip);
    }
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port.host_port);
    if (::inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1) {
      return fail(ErrorKind::kInvalidArgument, "invalid host IP " + ip);
    }
    len = sizeof(sockaddr_in);
  }
  return ss;
}

sockaddr_in container_address(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// The host side of one mapping: a listening TCP socket or a bound UDP socket.
Result<UniqueFd> open_host_socket(PortMapping& port) {
  socklen_t len = 0;
  sockaddr_storage addr = TRY(host_address(port, len));
  bool tcp = port.protocol == Protocol::kTcp;
  UniqueFd fd(::socket(addr.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket", host_side(port));
  int one = 1;
  // TCP only: for UDP, SO_REUSEADDR would let two binds share the port silently.
  if (tcp) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) < 0) {
    int err = errno;
    std::string what =
        "Bind for " + host_side(port) + "/" + std::string(protocol_name(port.protocol)) + " failed";
    if (err == EADDRINUSE) {
      return fail(ErrorKind::kAlreadyExists, what + ": port is already allocated");
    }
    return fail(Error::from_errno("bind", host_side(port), err).with_context(what));
  }
  if (tcp && ::listen(fd.get(), SOMAXCONN) < 0) return fail_errno("listen", host_side(port));
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) < 0) {
    return fail_errno("getsockname", host_side(port));
  }
  port.host_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

// Moves bytes from one socket to the other through a pipe until EOF (then half-closes `to`) or
// an error (then shuts both down, which also wakes the opposite direction).
void pump(int from, int to) {
  auto pipe = sys::pipe2(0, "port forwarder");
  if (!pipe) {
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
    return;
  }
  auto& [pipe_r, pipe_w] = *pipe;
  int size = ::fcntl(pipe_w.get(), F_SETPIPE_SZ, kPipeSize);
  size_t chunk = size > 0 ? static_cast<size_t>(size) : 65536;
  for (;;) {
    ssize_t n = sys::retry_eintr(
        [&] { return ::splice(from, nullptr, pipe_w.get(), nullptr, chunk, SPLICE_F_MOVE); });
    if (n == 0) {
      ::shutdown(to, SHUT_WR);
      return;
    }
    while (n > 0) {
      ssize_t m = sys::retry_eintr([&] {
        return ::splice(pipe_r.get(), nullptr, to, nullptr, static_cast<size_t>(n), SPLICE_F_MOVE);
      });
      if (m <= 0) break;
      n -= m;
    }
    if (n != 0) {  // a read or a write failed: the connection is broken both ways
      ::shutdown(from, SHUT_RDWR);
      ::shutdown(to, SHUT_RDWR);
      return;
    }
  }
}

// Blocks every signal in the calling thread: signals meant for the process (forwarded to the
// container by run_container) are never taken by a forwarder thread, and a write to a closed
// socket gives EPIPE instead of a SIGPIPE that would kill the monitor.
void block_signals() {
  sigset_t all;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

struct Connection {
  UniqueFd client, server;  // guarded by Impl::mu once the thread runs
  std::thread thread;
  std::atomic<bool> done{false};
};

struct Listener {
  UniqueFd fd;
  PortMapping port;
};

}  // namespace

struct PortForwarder::Impl {
  std::vector<Listener> listeners;
  UniqueFd stop_fd;  // eventfd, readable once stop() was called; never read
  std::thread main;
  std::vector<std::thread> udp_threads;  // started and joined by `main`
  std::mutex mu;
  std::list<std::unique_ptr<Connection>> connections;
  bool stopping = false;

  bool stop_requested() const {
    pollfd p{stop_fd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  // Connects a socket in the container's namespace to 127.0.0.1:port. False when stopping or
  // the container refused.
  bool connect_inside(Connection& c, uint16_t port) {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) return false;
    int fd = s.get();
    {
      std::lock_guard lock(mu);
      if (stopping) return false;
      c.server = std::move(s);
    }
    sockaddr_in addr = container_address(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      if (errno != EINPROGRESS) return false;
      // Non-blocking so that stop() is never held up by a container whose backlog is full.
      pollfd p[2] = {{fd, POLLOUT, 0}, {stop_fd.get(), POLLIN, 0}};
      int ready = 0;
      while (ready == 0) {
        auto polled = sys::poll(p, -1, "port forwarder connect");
        if (!polled) return false;
        ready = *polled;
      }
      if (p[1].revents != 0) return false;
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) return false;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return true;
  }

  void serve(Connection& c, uint16_t port) {
    int one = 1;
    ::setsockopt(c.client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect_inside(c, port)) {
      ::setsockopt(c.server.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::thread back(pump, c.server.get(), c.client.get());
      pump(c.client.get(), c.server.get());
      back.join();
    } else {
      // Nothing listens in the container (yet): reset the client, as a refused connect would.
      linger l{1, 0};
      ::setsockopt(c.client.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    std::lock_guard lock(mu);
    c.client.reset();
    c.server.reset();
    c.done = true;
  }

  void reap_finished() {
    std::list<std::unique_ptr<Connection>> finished;
    {
      std::lock_guard lock(mu);
      for (auto it = connections.begin(); it != connections.end();) {
        auto next = std::next(it);
        if ((*it)->done) finished.splice(finished.end(), connections, it);
        it = next;
      }
    }
    for (auto& c : finished) c->thread.join();
  }

  void accept_loop() {
    std::vector<pollfd> fds = {{stop_fd.get(), POLLIN, 0}};
    std::vector<const Listener*> tcp;
    for (const auto& l : listeners) {
      if (l.port.protocol != Protocol::kTcp) continue;
      fds.push_back({l.fd.get(), POLLIN, 0});
      tcp.push_back(&l);
    }
    for (;;) {
      auto polled = sys::poll(fds, -1, "port forwarder listeners");
      if (!polled) {
        log::error("port forwarder: " + polled.error().message());
        break;
      }
      if (*polled == 0) continue;
      if (fds[0].revents != 0) break;
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        int fd = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // let connections end
          }
          continue;
        }
        reap_finished();
        auto conn = std::make_unique<Connection>();
        conn->client.reset(fd);
        Connection* c = conn.get();
        uint16_t port = tcp[i - 1]->port.container_port;
        std::lock_guard lock(mu);
        connections.push_back(std::move(conn));
        c->thread = std::thread([this, c, port] { serve(*c, port); });
      }
    }
    // Stopping: wake every connection's threads, then wait for them.
    {
      std::lock_guard lock(mu);
      stopping = true;
      for (auto& c : connections) {
        if (c->client) ::shutdown(c->client.get(), SHUT_RDWR);
        if (c->server) ::shutdown(c->server.get(), SHUT_RDWR);
      }
    }
    for (auto& c : connections) c->thread.join();
    connections.clear();
  }

  struct Flow {
    UniqueFd fd;  // in the container's namespace, connected to 127.0.0.1:port
    sockaddr_storage client{};
    socklen_t client_len = 0;
    Clock::time_point last;
  };

  void udp_loop(const Listener& l) {
    std::map<std::string, Flow> flows;  // by the client's address bytes
    std::vector<char> buf(65536);
    std::vector<pollfd> fds;
    std::vector<std::string> keys;
    for (;;) {
      fds = {{stop_fd.get(), POLLIN, 0}, {l.fd.get(), POLLIN, 0}};
      keys.clear();
      for (const auto& [key, flow] : flows) {
        fds.push_back({flow.fd.get(), POLLIN, 0});
        keys.push_back(key);
      }
      if (!sys::poll(fds, 1000, "port forwarder udp")) break;
      if (fds[0].revents != 0) break;
      auto now = Clock::now();
      if (fds[1].revents != 0) {
        sockaddr_storage from{};
        socklen_t from_len = sizeof from;
        ssize_t n = ::recvfrom(l.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n >= 0) {
          std::string key(reinterpret_cast<char*>(&from), from_len);
          auto it = flows.find(key);
          if (it == flows.end() && flows.size() < kUdpMaxFlows) {
            Flow f;
            f.fd.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
            sockaddr_in to = container_address(l.port.container_port);
            if (f.fd && ::connect(f.fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
              f.client = from;
              f.client_len = from_len;
              it = flows.emplace(key, std::move(f)).first;
            }
          }
          if (it != flows.end()) {
            it->second.last = now;
            (void)::send(it->second.fd.get(), buf.data(), static_cast<size_t>(n), MSG_DONTWAIT);
          }
        }
      }
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        Flow& f = flows.at(keys[i - 2]);
        ssize_t n = ::recv(f.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) continue;  // e.g. ECONNREFUSED: nothing listens in the container
        f.last = now;
        (void)::sendto(l.fd.get(), buf.data(), static_cast<size_t>(n), MSG_DONTWAIT,
                       reinterpret_cast<sockaddr*>(&f.client), f.client_len);
      }
      std::erase_if(flows, [&](const auto& kv) { return now - kv.second.last > kUdpFlowIdle; });
    }
  }
};

PortForwarder::PortForwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PortForwarder::~PortForwarder() { stop(); }

Result<std::unique_ptr<PortForwarder>> PortForwarder::bind(std::vector<PortMapping>& ports) {
  auto impl = std::make_unique<Impl>();
  impl->stop_fd.reset(::eventfd(0, EFD_CLOEXEC));
  if (!impl->stop_fd) return fail_errno("eventfd", "port forwarder");
  for (auto& port : ports) {
    UniqueFd fd = TRY(open_host_socket(port));
    impl->listeners.push_back({std::move(fd), port});
  }
  return std::unique_ptr<PortForwarder>(new PortForwarder(std::move(impl)));
}

Status PortForwarder::start(pid_t pid) {
  std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return fail_errno("open", ns_path);
  std::promise<Status> entered;
  auto entered_future = entered.get_future();
  Impl* impl = impl_.get();
  impl->main = std::thread([impl, &entered, ns_path, fd = ns.release()] {
    UniqueFd netns(fd);
    block_signals();
    if (::setns(netns.get(), CLONE_NEWNET) < 0) {
      entered.set_value(fail_errno("setns", ns_path));
      return;
    }
    entered.set_value({});
    // Threads started from here inherit the container's network namespace and the signal mask.
    for (const auto& l : impl->listeners) {
      if (l.port.protocol == Protocol::kUdp) {
        impl->udp_threads.emplace_back([impl, &l] { impl->udp_loop(l); });
      }
    }
    impl->accept_loop();
    for (auto& t : impl->udp_threads) t.join();
  });
  Status status = entered_future.get();
  if (!status) {
    impl->main.join();
    return status;
  }
  return {};
}

void PortForwarder::stop() {
  if (!impl_) return;
  uint64_t one = 1;
  if (impl_->stop_fd) (void)!::write(impl_->stop_fd.get(), &one, sizeof one);
  if (impl_->main.joinable()) impl_->main.join();
  impl_->listeners.clear();  // closes the host sockets: the ports are free
}

}  // namespace imgbuild::runtime
