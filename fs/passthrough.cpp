#include "fs/passthrough.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/eintr.h"
#include "base/sys.h"
#include "base/unique_fd.h"
#include "fs/fuse_uring_abi.h"

namespace imgbuild::fs::passthrough {

namespace {

// Kernel ABI (protocol 7.40, Linux 6.9) beyond Debian 12's <linux/fuse.h> (7.37).
constexpr uint32_t kPassthroughFlags2 = 1u << (37 - 32);  // FUSE_PASSTHROUGH, in flags2
constexpr uint32_t kOpenPassthrough = 1u << 7;            // FOPEN_PASSTHROUGH
struct BackingMap {
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};
constexpr unsigned long kBackingOpen = _IOW(FUSE_DEV_IOC_MAGIC, 1, BackingMap);
constexpr unsigned long kBackingClose = _IOW(FUSE_DEV_IOC_MAGIC, 2, uint32_t);
// fuse_init_out as of 7.40: max_stack_depth took the first of the unused words.
struct InitOut {
  uint32_t major, minor, max_readahead, flags;
  uint16_t max_background, congestion_threshold;
  uint32_t max_write, time_gran;
  uint16_t max_pages, map_alignment;
  uint32_t flags2, max_stack_depth;
  uint32_t unused[6];
};
static_assert(sizeof(InitOut) == sizeof(fuse_init_out));
static_assert(offsetof(InitOut, flags2) == offsetof(fuse_init_out, flags2));
// Files the backing files live on may themselves be stacked this deep (1: a plain filesystem).
constexpr uint32_t kMaxStackDepth = 1;

// A message as read from /dev/fuse or written to it.
ssize_t read_message(int fd, std::vector<char>* buf) {
  return sys::retry_eintr([&] { return ::read(fd, buf->data(), buf->size()); });
}

// /dev/fuse takes a reply whole or not at all: a short write is a failure, never continued.
bool write_message(int fd, const char* data, size_t size) {
  return sys::retry_eintr([&] { return ::write(fd, data, size); }) == static_cast<ssize_t>(size);
}

uint64_t timeout_sec(double t) {
  if (t <= 0) return 0;
  if (t > static_cast<double>(ULONG_MAX)) return ULONG_MAX;
  return static_cast<uint64_t>(t);
}

uint32_t timeout_nsec(double t) {
  if (t <= 0 || t > static_cast<double>(ULONG_MAX)) return 0;
  return static_cast<uint32_t>((t - static_cast<double>(static_cast<uint64_t>(t))) * 1e9);
}

fuse_open_out open_out(const fuse_file_info& fi, int backing_id) {
  fuse_open_out o{};
  o.fh = fi.fh;
  o.open_flags = kOpenPassthrough | (fi.noflush ? FOPEN_NOFLUSH : 0);
  std::memcpy(&o.padding, &backing_id, sizeof(backing_id));  // backing_id since 7.40
  return o;
}

}  // namespace

Result<InitCaps> negotiate_init(fuse_session* se, InitCaps want, const InitHooks& hooks) {
  const int libfuse_fd = fuse_session_fd(se);
  UniqueFd dev(::fcntl(libfuse_fd, F_DUPFD_CLOEXEC, 0));
  if (!dev) return fail_errno("dup", "/dev/fuse");
  auto [theirs, ours] = TRY(sys::socketpair(AF_UNIX, SOCK_SEQPACKET, "FUSE init"));
  // From here libfuse's fd number is one end of the socket pair, until it gets /dev/fuse back.
  bool swapped = ::dup3(theirs.get(), libfuse_fd, O_CLOEXEC) >= 0;
  int swap_errno = errno;
  theirs.reset();
  if (!swapped) return fail_errno("dup3", "FUSE init", swap_errno);
  auto restore = [&] { (void)::dup3(dev.get(), libfuse_fd, O_CLOEXEC); };

  std::vector<char> buf(FUSE_MIN_READ_BUFFER + (1 << 20));
  ssize_t n = read_message(dev.get(), &buf);
  if (n < static_cast<ssize_t>(sizeof(fuse_in_header) + sizeof(fuse_init_in))) {
    int err = n < 0 ? errno : EPROTO;
    restore();
    return fail_errno("reading the FUSE INIT request", "/dev/fuse", err);
  }
  fuse_in_header in_header;
  fuse_init_in in;
  std::memcpy(&in_header, buf.data(), sizeof(in_header));
  std::memcpy(&in, buf.data() + sizeof(in_header), sizeof(in));
  bool init = in_header.opcode == FUSE_INIT;
  InitCaps use;
  use.passthrough =
      want.passthrough && init && (in.flags & FUSE_INIT_EXT) && (in.flags2 & kPassthroughFlags2);
  use.killpriv_v2 = want.killpriv_v2 && init && (in.flags & FUSE_HANDLE_KILLPRIV_V2);
  use.io_uring = want.io_uring && init && (in.flags & FUSE_INIT_EXT) &&
                 (in.flags2 & uring_abi::kOverIoUringFlags2);
  if (hooks.before_init) hooks.before_init(use);

  // libfuse answers the request as if it had read it itself.
  if (!write_message(ours.get(), buf.data(), static_cast<size_t>(n))) {
    int err = errno;
    restore();
    return fail_errno("passing the FUSE INIT request to libfuse", "", err);
  }
  fuse_buf request{};
  int got = fuse_session_receive_buf(se, &request);
  if (got > 0) fuse_session_process_buf(se, &request);
  std::free(request.mem);
  n = got > 0 ? read_message(ours.get(), &buf) : -1;
  restore();
  if (n < static_cast<ssize_t>(sizeof(fuse_out_header))) {
    return fail(ErrorKind::kIo, "libfuse did not answer the FUSE INIT request");
  }
  fuse_out_header out_header;
  std::memcpy(&out_header, buf.data(), sizeof(out_header));
  const bool answered =
      out_header.error == 0 && static_cast<size_t>(n) >= sizeof(out_header) + sizeof(InitOut);
  if (!answered) use.io_uring = false;  // the caller must not wait for a ring nobody asked for
  if ((use.passthrough || use.killpriv_v2 || use.io_uring) && answered) {
    InitOut out;
    std::memcpy(&out, buf.data() + sizeof(out_header), sizeof(out));
    if (use.io_uring && hooks.before_reply) {
      InitLimits limits{out.max_write, (out.flags & FUSE_MAX_PAGES) ? out.max_pages : 0u};
      hooks.before_reply(limits, use);
    }
    if (use.passthrough) {
      out.flags |= FUSE_INIT_EXT;
      out.flags &= ~FUSE_WRITEBACK_CACHE;
      out.flags2 |= kPassthroughFlags2;
      out.max_stack_depth = kMaxStackDepth;
    }
    if (use.killpriv_v2) out.flags |= FUSE_HANDLE_KILLPRIV_V2;
    if (use.io_uring) {
      out.flags |= FUSE_INIT_EXT;
      out.flags2 |= uring_abi::kOverIoUringFlags2;
    }
    std::memcpy(buf.data() + sizeof(out_header), &out, sizeof(out));
  }
  if (!write_message(dev.get(), buf.data(), static_cast<size_t>(n))) {
    return fail_errno("answering the FUSE INIT request", "/dev/fuse");
  }
  return use;
}

int open_backing(int fuse_fd, int fd) {
  BackingMap map{fd, 0, 0};
  int id = ::ioctl(fuse_fd, kBackingOpen, &map);
  return id > 0 ? id : (id < 0 ? -errno : -EIO);
}

void close_backing(int fuse_fd, int backing_id) {
  uint32_t id = static_cast<uint32_t>(backing_id);
  (void)::ioctl(fuse_fd, kBackingClose, &id);
}

int reply_open(fuse_req_t req, const fuse_file_info& fi, int backing_id) {
  fuse_open_out o = open_out(fi, backing_id);
  iovec iov{&o, sizeof(o)};
  return fuse_reply_iov(req, &iov, 1);
}

int reply_create(fuse_req_t req, const fuse_entry_param& e, const fuse_file_info& fi,
                 int backing_id) {
  struct {
    fuse_entry_out entry;
    fuse_open_out open;
  } out{};
  static_assert(sizeof(out) == sizeof(fuse_entry_out) + sizeof(fuse_open_out));
  fuse_entry_out& o = out.entry;
  o.nodeid = e.ino;
  o.generation = e.generation;
  o.entry_valid = timeout_sec(e.entry_timeout);
  o.entry_valid_nsec = timeout_nsec(e.entry_timeout);
  o.attr_valid = timeout_sec(e.attr_timeout);
  o.attr_valid_nsec = timeout_nsec(e.attr_timeout);
  const struct stat& st = e.attr;
  o.attr.ino = st.st_ino;
  o.attr.size = static_cast<uint64_t>(st.st_size);
  o.attr.blocks = static_cast<uint64_t>(st.st_blocks);
  o.attr.atime = static_cast<uint64_t>(st.st_atim.tv_sec);
  o.attr.mtime = static_cast<uint64_t>(st.st_mtim.tv_sec);
  o.attr.ctime = static_cast<uint64_t>(st.st_ctim.tv_sec);
  o.attr.atimensec = static_cast<uint32_t>(st.st_atim.tv_nsec);
  o.attr.mtimensec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  o.attr.ctimensec = static_cast<uint32_t>(st.st_ctim.tv_nsec);
  o.attr.mode = st.st_mode;
  o.attr.nlink = static_cast<uint32_t>(st.st_nlink);
  o.attr.uid = st.st_uid;
  o.attr.gid = st.st_gid;
  o.attr.rdev = static_cast<uint32_t>(st.st_rdev);
  o.attr.blksize = static_cast<uint32_t>(st.st_blksize);
  out.open = open_out(fi, backing_id);
  iovec iov{&out, sizeof(out)};
  return fuse_reply_iov(req, &iov, 1);
}

}  // namespace imgbuild::fs::passthrough
