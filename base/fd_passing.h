// Passing a file descriptor over a Unix socket (SCM_RIGHTS), one fd with one byte of payload per
// message, as the runtime hands a pty master and the FUSE helper a /dev/fuse fd to their parent.
// Both retry EINTR; the received fd is O_CLOEXEC.
#pragma once

#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"

namespace imgbuild::sys {

Status send_fd(int sock, int fd, std::string_view subject);
// kIo "recvmsg(SUBJECT): no file descriptor" when the peer closed or sent none.
Result<UniqueFd> receive_fd(int sock, std::string_view subject);

}  // namespace imgbuild::sys
