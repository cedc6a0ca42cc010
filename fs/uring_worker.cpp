#include "fs/uring_worker.h"

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314  // libfuse 3.14 (Debian 12)
#endif
#include <fuse_lowlevel.h>
#include <liburing.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "fs/fuse_uring_abi.h"

namespace imgbuild::fs {

namespace {

constexpr uint64_t kEntryTag = 1;  // user_data of the entry's commands
constexpr uint64_t kStopTag = 2;   // user_data of the stop_fd poll
constexpr size_t kPage = 4096;
// The header page, then the page whose end holds fuse_in_header + the opcode's argument struct.
constexpr size_t kPayloadOffset = 2 * kPage;
static_assert(sizeof(uring_abi::ReqHeader) <= kPage);
static_assert(sizeof(fuse_in_header) + uring_abi::kOpInOutSize <= kPage);

thread_local UringWorker* t_current = nullptr;

uring_abi::ReqHeader& header_of(char* mem) { return *reinterpret_cast<uring_abi::ReqHeader*>(mem); }

// The kernel's answers that mean the connection (or the ring) is gone: nothing left to serve.
bool connection_ended(int err) {
  return err == ENOTCONN || err == ECONNABORTED || err == ECANCELED || err == ENODEV;
}

}  // namespace

UringWorker::UringWorker(unsigned qid, int stop_fd)
    : qid_(qid), stop_fd_(stop_fd), ring_(std::make_unique<io_uring>()) {}

UringWorker::~UringWorker() {
  if (ring_ready_) io_uring_queue_exit(ring_.get());
  if (mem_) ::munmap(mem_, mem_size_);
}

Result<std::unique_ptr<UringWorker>> UringWorker::create(unsigned qid, int fuse_fd, int stop_fd) {
  // The kernel puts a request in the queue of the CPU its caller runs on and hands it to the
  // task that submitted the entry's command: serving from that CPU keeps both on one core.
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(qid, &cpus);
  (void)::sched_setaffinity(0, sizeof(cpus), &cpus);  // a cpuset may exclude it: serve anyway

  std::unique_ptr<UringWorker> w(new UringWorker(qid, stop_fd));
  io_uring_params params{};
  // 128-byte SQEs carry fuse_uring_cmd_req. Entries: the entry's command and the stop poll.
  params.flags = IORING_SETUP_SQE128;
  int rc = io_uring_queue_init_params(4, w->ring_.get(), &params);
  if (rc < 0) return fail_errno("io_uring_setup", "FUSE ring queue " + std::to_string(qid), -rc);
  w->ring_ready_ = true;
  w->fuse_fd_ = fuse_fd;
  return w;
}

Status UringWorker::allocate(size_t payload_size) {
  size_t size = kPayloadOffset + ((payload_size + kPage - 1) & ~(kPage - 1));
  void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return fail_errno("mmap", "FUSE ring entry buffers");
  mem_ = static_cast<char*>(mem);
  mem_size_ = size;
  payload_ = mem_ + kPayloadOffset;
  payload_size_ = size - kPayloadOffset;
  iov_[0] = {mem_, sizeof(uring_abi::ReqHeader)};
  iov_[1] = {payload_, payload_size_};
  return {};
}

UringWorker* UringWorker::current() { return t_current; }

bool UringWorker::queue_command(uint32_t cmd) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (!sqe) return false;
  // /dev/fuse (index 0 of the registered files). No buffer for a commit: the kernel reads the
  // reply from the buffers registered with the entry.
  const bool reg = cmd == uring_abi::kCmdRegister;
  io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fixed_file_ ? 0 : fuse_fd_, reg ? iov_ : nullptr,
                   reg ? 2 : 0, 0);
  if (fixed_file_) sqe->flags |= IOSQE_FIXED_FILE;
  sqe->cmd_op = cmd;
  uring_abi::CmdReq req{};
  req.qid = static_cast<uint16_t>(qid_);
  req.commit_id = reg ? 0 : commit_id_;
  // The command area is the second half of the 128-byte SQE, past io_uring_sqe's 64 bytes.
  std::memcpy(reinterpret_cast<char*>(sqe) + offsetof(io_uring_sqe, addr3), &req, sizeof(req));
  std::memset(reinterpret_cast<char*>(sqe) + offsetof(io_uring_sqe, addr3) + sizeof(req), 0,
              80 - sizeof(req));
  io_uring_sqe_set_data64(sqe, kEntryTag);
  return true;
}

bool UringWorker::queue_stop_poll() {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (!sqe) return false;
  io_uring_prep_poll_add(sqe, stop_fd_, POLLIN);
  std::memset(reinterpret_cast<char*>(sqe) + offsetof(io_uring_sqe, addr3), 0, 80);
  io_uring_sqe_set_data64(sqe, kStopTag);
  return true;
}

void UringWorker::set_reply(uint64_t unique, int error, size_t payload_size) {
  uring_abi::ReqHeader& h = header_of(mem_);
  fuse_out_header out{};
  out.len = static_cast<uint32_t>(sizeof(out) + payload_size);
  out.error = error;
  out.unique = unique;
  std::memcpy(h.in_out, &out, sizeof(out));
  h.ring_ent_in_out = {};
  h.ring_ent_in_out.payload_sz = static_cast<uint32_t>(payload_size);
}

void UringWorker::serve_request(fuse_session* se) {
  uring_abi::ReqHeader& h = header_of(mem_);
  fuse_in_header in;
  std::memcpy(&in, h.in_out, sizeof(in));
  commit_id_ = h.ring_ent_in_out.commit_id;
  const size_t payload = h.ring_ent_in_out.payload_sz;
  // in.len counts every argument, as on /dev/fuse: what the payload does not hold is the first
  // argument, in op_in.
  if (in.len < sizeof(in) + payload || payload > payload_size_ ||
      in.len - sizeof(in) - payload > uring_abi::kOpInOutSize) {
    log::error("imgfs: malformed FUSE ring request (opcode " + std::to_string(in.opcode) +
               ", length " + std::to_string(in.len) + ")");
    set_reply(in.unique, -EIO, 0);
    return;
  }
  const size_t op_size = in.len - sizeof(in) - payload;
  char* message = payload_ - op_size - sizeof(in);
  std::memcpy(message, &in, sizeof(in));
  std::memcpy(message + sizeof(in), h.op_in, op_size);

  unique_ = in.unique;
  serving_ = true;
  t_current = this;
  fuse_buf buf{};
  buf.size = in.len;
  buf.mem = message;
  fuse_session_process_buf(se, &buf);
  t_current = nullptr;
  if (serving_) {
    // Every imgfs callback replies before it returns, and libfuse answers what it does not pass
    // on; without an answer the entry could never fetch again, so it gets EIO.
    serving_ = false;
    log::error("imgfs: no reply to FUSE ring request (opcode " + std::to_string(in.opcode) + ")");
    set_reply(in.unique, -EIO, 0);
  }
}

bool UringWorker::take_reply(const iovec* iov, int count) {
  fuse_out_header out;
  if (!serving_ || count < 1 || iov[0].iov_len < sizeof(out)) return false;
  std::memcpy(&out, iov[0].iov_base, sizeof(out));
  if (out.unique != unique_) return false;
  size_t n = 0;
  for (int i = 0; i < count; ++i) {
    const char* base = static_cast<const char*>(iov[i].iov_base);
    size_t len = iov[i].iov_len;
    if (i == 0) {
      base += sizeof(out);
      len -= sizeof(out);
    }
    if (len > payload_size_ - n) {
      log::error("imgfs: FUSE reply larger than the ring entry (" + std::to_string(n + len) +
                 " > " + std::to_string(payload_size_) + " bytes)");
      out.error = -EIO;
      n = 0;
      break;
    }
    // reply_buffer() hands out the payload itself: such data is in place already.
    if (len && base != payload_ + n) std::memcpy(payload_ + n, base, len);
    n += len;
  }
  serving_ = false;
  set_reply(out.unique, out.error, n);
  return true;
}

char* UringWorker::reply_buffer(size_t size) {
  return serving_ && size <= payload_size_ ? payload_ : nullptr;
}

void UringWorker::serve(fuse_session* se, std::atomic<uint64_t>& served) {
  // Not in create(): that runs while the INIT exchange lends the fd's number to a socket
  // (fs/passthrough.cpp); it is /dev/fuse again once the INIT answer is sent.
  int rc = io_uring_register_files(ring_.get(), &fuse_fd_, 1);
  if (rc < 0) {
    // Without a REGISTER from every queue the kernel would hold requests forever: make it see a
    // failing one (an entry without buffers), which turns the ring off for the connection.
    log::error(std::string("imgfs: io_uring_register_files(/dev/fuse): ") + std::strerror(-rc));
    iov_[0] = iov_[1] = {};
    fixed_file_ = false;
  }
  if (!queue_stop_poll() || !queue_command(uring_abi::kCmdRegister)) {
    log::error("imgfs: no free SQE in a new FUSE ring");
    return;
  }
  uint32_t last = uring_abi::kCmdRegister;
  for (;;) {
    // Submits the pending command (a commit carries the last reply) and waits for the next
    // completion: one system call per request.
    rc = io_uring_submit_and_wait(ring_.get(), 1);
    if (rc < 0 && rc != -EINTR) {
      log::error(std::string("imgfs: io_uring_enter on a FUSE ring: ") + std::strerror(-rc));
      return;
    }
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(ring_.get(), &cqe) == 0 && cqe) {
      const uint64_t tag = io_uring_cqe_get_data64(cqe);
      const int res = cqe->res;
      io_uring_cqe_seen(ring_.get(), cqe);
      if (tag == kStopTag) return;
      if (res == 0) {
        serve_request(se);
        served.fetch_add(1, std::memory_order_relaxed);
        last = uring_abi::kCmdCommitAndFetch;
      } else if (res == -EAGAIN || res == -EINTR) {
        // REGISTER before the kernel processed the INIT answer, or an interrupted submission:
        // the same command again.
      } else if (connection_ended(-res)) {
        return;
      } else if (last == uring_abi::kCmdCommitAndFetch) {
        // The entry lost its request (the kernel did not find the commit): register it again, so
        // the queue keeps its entries.
        log::warn(std::string("imgfs: FUSE ring commit failed: ") + std::strerror(-res) +
                  "; registering the entry again");
        last = uring_abi::kCmdRegister;
      } else {
        // A failed REGISTER turns the ring off for the connection: requests come through
        // /dev/fuse (the kernel's fallback), so this thread has nothing left to do.
        log::warn(std::string("imgfs: FUSE ring registration failed: ") + std::strerror(-res) +
                  "; serving through /dev/fuse");
        return;
      }
      if (!queue_command(last)) {
        log::error("imgfs: no free SQE in a FUSE ring");
        return;
      }
    }
  }
}

}  // namespace imgbuild::fs
