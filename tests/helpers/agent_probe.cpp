// agent_probe: asks the SSH agent at $SSH_AUTH_SOCK for its identities
// (SSH_AGENTC_REQUEST_IDENTITIES) and prints "identities N". For the build --ssh test: busybox
// has no agent client. Linked statically so it runs inside the busybox test image.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool read_exact(int fd, unsigned char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, buf + got, n - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

int main() {
  const char* path = std::getenv("SSH_AUTH_SOCK");
  if (path == nullptr) {
    std::puts("agent_probe: SSH_AUTH_SOCK is not set");
    return 2;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    std::perror("agent_probe: connect");
    return 3;
  }
  const unsigned char request[5] = {0, 0, 0, 1, 11};  // length 1, REQUEST_IDENTITIES
  if (::write(fd, request, sizeof request) != static_cast<ssize_t>(sizeof request)) return 4;
  unsigned char head[9];  // uint32 length, byte type (12: IDENTITIES_ANSWER), uint32 count
  if (!read_exact(fd, head, sizeof head) || head[4] != 12) {
    std::puts("agent_probe: no identities answer");
    return 5;
  }
  unsigned count = (unsigned{head[5]} << 24) | (unsigned{head[6]} << 16) |
                   (unsigned{head[7]} << 8) | unsigned{head[8]};
  std::printf("identities %u\n", count);
  return 0;
}
