#include "base/fd_passing.h"

#include <sys/socket.h>

#include <cstring>
#include <string>

#include "base/eintr.h"

namespace imgbuild::sys {
namespace {

// One byte of payload (a stream socket cannot carry control data alone) and room for one fd.
struct Message {
  char byte = 0;
  struct iovec iov {};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};

  Message() {
    iov = {&byte, 1};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
};

}  // namespace

Status send_fd(int sock, int fd, std::string_view subject) {
  Message m;
  struct cmsghdr* cm = CMSG_FIRSTHDR(&m.msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  ssize_t n = retry_eintr([&] { return ::sendmsg(sock, &m.msg, MSG_NOSIGNAL); });
  if (n < 0) return fail_errno("sendmsg", subject);
  return {};
}

Result<UniqueFd> receive_fd(int sock, std::string_view subject) {
  Message m;
  ssize_t n = retry_eintr([&] { return ::recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC); });
  if (n < 0) return fail_errno("recvmsg", subject);
  struct cmsghdr* cm = CMSG_FIRSTHDR(&m.msg);
  if (n == 0 || cm == nullptr || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
    return fail(ErrorKind::kIo, "recvmsg(" + std::string(subject) + "): no file descriptor");
  }
  int fd;
  std::memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return UniqueFd(fd);
}

}  // namespace imgbuild::sys
