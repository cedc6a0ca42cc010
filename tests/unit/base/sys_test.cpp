#include "base/sys.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fd_passing.h"
#include "base/fs.h"
#include "base/random_id.h"

namespace imgbuild {
namespace {

TEST_CASE("wait_pid returns the wait status, and 0 for a running child under WNOHANG", "[unit]") {
  // The child must die of SIGTERM itself, not run Catch's fatal-signal report it inherited: it
  // restores the default action before telling the parent it is ready.
  auto [ready_r, ready_w] = *sys::pipe2(0, "ready");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGTERM, SIG_DFL);
    (void)!::write(ready_w.get(), "r", 1);
    for (;;) ::pause();
  }
  ready_w.reset();
  char ready = 0;
  REQUIRE(*sys::read_exact(ready_r.get(), std::span<char>(&ready, 1), "ready") == 1);
  CHECK(*sys::wait_pid(pid, WNOHANG) == 0);
  ::kill(pid, SIGTERM);
  int status = *sys::wait_pid(pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  auto again = sys::wait_pid(pid);
  REQUIRE_FALSE(again);
  CHECK(again.error().message().starts_with("waitpid(" + std::to_string(pid) + "): ECHILD"));
}

TEST_CASE("read_exact reads across short writes and stops at EOF", "[unit]") {
  auto [r, w] = *sys::pipe2(0, "test");
  REQUIRE(sys::write_all(w.get(), "abc"));
  REQUIRE(sys::write_all(w.get(), "def"));
  char buf[4];
  CHECK(*sys::read_exact(r.get(), buf) == 4);
  CHECK(std::string(buf, 4) == "abcd");
  w.reset();
  CHECK(*sys::read_exact(r.get(), buf) == 2);
  CHECK(std::string(buf, 2) == "ef");
}

TEST_CASE("pwrite_all and pread_some work at an offset", "[unit]") {
  auto dir = *fs::TempDir::create("/tmp", "sys-test-");
  std::string path = fs::join(dir.path(), "f");
  UniqueFd fd = *sys::open(path, O_RDWR | O_CREAT, 0600);
  REQUIRE(sys::pwrite_all(fd.get(), "tail", 10, path));
  char buf[8];
  CHECK(*sys::pread_some(fd.get(), buf, 10, path) == 4);
  CHECK(std::string(buf, 4) == "tail");
  CHECK(*fs::read_file(path) == std::string(10, '\0') + "tail");
  auto bad = sys::pwrite_all(-1, "x", 0, "nowhere");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().starts_with("pwrite(nowhere): EBADF"));
}

TEST_CASE("pipe2 and socketpair make close-on-exec pairs", "[unit]") {
  auto [r, w] = *sys::pipe2(O_NONBLOCK, "test");
  CHECK((::fcntl(r.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((::fcntl(w.get(), F_GETFL) & O_NONBLOCK) != 0);
  auto [a, b] = *sys::socketpair(AF_UNIX, SOCK_SEQPACKET, "test");
  CHECK((::fcntl(a.get(), F_GETFD) & FD_CLOEXEC) != 0);
  char c = 0;
  auto empty = sys::read_some(r.get(), {&c, 1}, "empty pipe");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().errno_value() == EAGAIN);
}

TEST_CASE("send_fd and receive_fd pass an open file", "[unit]") {
  auto [a, b] = *sys::socketpair(AF_UNIX, SOCK_SEQPACKET, "test");
  auto [r, w] = *sys::pipe2(0, "test");
  REQUIRE(sys::send_fd(a.get(), w.get(), "test socket"));
  w.reset();
  UniqueFd got = *sys::receive_fd(b.get(), "test socket");
  CHECK((::fcntl(got.get(), F_GETFD) & FD_CLOEXEC) != 0);
  REQUIRE(sys::write_all(got.get(), "through"));
  got.reset();
  CHECK(*sys::read_all(r.get()) == "through");
  a.reset();
  auto none = sys::receive_fd(b.get(), "test socket");
  REQUIRE_FALSE(none);
  CHECK(none.error().message() == "recvmsg(test socket): no file descriptor");
}

TEST_CASE("poll reports ready fds", "[unit]") {
  auto [r, w] = *sys::pipe2(0, "test");
  struct pollfd p {
    r.get(), POLLIN, 0
  };
  CHECK(*sys::poll({&p, 1}, 0, "pipe") == 0);
  REQUIRE(sys::write_all(w.get(), "x"));
  CHECK(*sys::poll({&p, 1}, 1000, "pipe") == 1);
}

TEST_CASE("random_hex gives distinct lowercase hex ids", "[unit]") {
  std::string a = *random_hex(32), b = *random_hex(32);
  CHECK(a.size() == 64);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
  CHECK(random_hex(0)->empty());
}

}  // namespace
}  // namespace imgbuild
