// Kernel FUSE passthrough (Linux 6.9+, CONFIG_FUSE_PASSTHROUGH): an open file whose reply names a
// "backing file" has its reads, writes and mmaps served by the kernel straight from that file,
// with no request to this process. imgfs uses it for files in the upper directory, which is where
// FUSE costs most (every write is a round trip and a second copy in the page cache), and for every
// file of a read-only mount.
//
// Debian 12's libfuse (3.14) predates passthrough: it cannot ask for the capability at INIT, and
// its open/create replies have no backing id. Nor does it know FUSE_HANDLE_KILLPRIV_V2 or
// FUSE_OVER_IO_URING (fs/uring_transport.h). So:
//  - negotiate_init() performs the INIT exchange on libfuse's behalf: it hands the kernel's INIT
//    request to libfuse over a socket standing in for /dev/fuse, lets libfuse answer (calling the
//    filesystem's init callback as usual), adds the capabilities libfuse does not know to that
//    answer and sends it to the kernel; then libfuse's fd is /dev/fuse again and its loop takes
//    over.
//  - reply_open() / reply_create() send those replies with the backing id (kernel ABI structs).
// Everything else stays libfuse's. The kernel refuses passthrough together with writeback caching,
// so a passthrough connection has none; the filesystem init callback sees offered() first.
//
// Kernel rules the callers follow (fs/fuse_ops_file.cpp): all passthrough opens of one inode must
// name the same backing file, and an inode never has passthrough and cached opens at the same time
// (the open fails with EIO otherwise).
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314  // libfuse 3.14 (Debian 12)
#endif
#include <fuse_lowlevel.h>

#include <cstdint>
#include <functional>

#include "base/error.h"

namespace imgbuild::fs::passthrough {

// Capabilities negotiated by hand, asked for (wanted) or granted (offered by the kernel too).
struct InitCaps {
  bool passthrough = false;  // FUSE_PASSTHROUGH (Linux 6.9)
  // FUSE_HANDLE_KILLPRIV_V2 (Linux 5.11): the server clears setuid/setgid on write, truncate and
  // chown, so the kernel no longer asks for security.capability before every write (only before
  // the first write after an inode's attributes were fetched).
  bool killpriv_v2 = false;
  // FUSE_OVER_IO_URING (Linux 6.14, offered only while /sys/module/fuse/parameters/enable_uring
  // is Y): once the kernel has it, every request waits until the server's ring is registered.
  bool io_uring = false;
};

// What libfuse's INIT answer allows, for sizing buffers.
struct InitLimits {
  uint32_t max_write = 0;
  uint32_t max_pages = 0;  // 0 unless the answer has FUSE_MAX_PAGES
};

// The caller's parts of the INIT exchange; each may clear capabilities it cannot serve.
struct InitHooks {
  // Before libfuse's init callback, with the capabilities that will be requested. The session's
  // fd number names the socket standing in for /dev/fuse meanwhile: do not use it here.
  std::function<void(InitCaps&)> before_init;
  // With libfuse's answer, before it goes to the kernel (io_uring only: when it is still asked
  // for).
  std::function<void(const InitLimits&, InitCaps&)> before_reply;
};

// Runs the session's INIT exchange (call after fuse_session_mount, before the loop). want: the
// capabilities to use where the kernel offers them. Returns the capabilities requested.
Result<InitCaps> negotiate_init(fuse_session* se, InitCaps want, const InitHooks& hooks);

// Registers fd's file as a backing file on the connection. Returns the backing id (> 0) or -errno
// (EPERM: passthrough not enabled or no CAP_SYS_ADMIN; ELOOP: the file is on a stacked fs).
int open_backing(int fuse_fd, int fd);
void close_backing(int fuse_fd, int backing_id);

// fuse_reply_open / fuse_reply_create with FOPEN_PASSTHROUGH and the backing id.
int reply_open(fuse_req_t req, const fuse_file_info& fi, int backing_id);
int reply_create(fuse_req_t req, const fuse_entry_param& e, const fuse_file_info& fi,
                 int backing_id);

}  // namespace imgbuild::fs::passthrough
