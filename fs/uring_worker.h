// One serving thread of the FUSE-over-io_uring transport (fs/uring_transport.h): its own io_uring
// (128-byte SQEs, /dev/fuse as its registered file) and one ring entry in queue qid, which it
// serves one request at a time. Internal to fs/.
//
// A request arrives split (fuse_uring_abi.h): its headers in the entry's header buffer, its other
// arguments in the payload buffer. The payload buffer is allocated with room in front of it, so
// the fuse_in_header and the opcode's argument struct are copied just before the payload and the
// request is, without copying the payload, the contiguous message libfuse's
// fuse_session_process_buf() takes from /dev/fuse. libfuse's reply reaches take_reply() through
// the session's custom io (its writev), on this thread, before process_buf returns; it is written
// into the entry and committed with the fetch of the next request (one io_uring_enter).
//
// One entry per thread: a request that takes long (a lazy layer's fetch, seconds) holds only its
// own thread, and the queue's other entries (other threads) take that CPU's next requests.
//
// Lifetime: create() and serve() run on the serving thread (its task runs the kernel's request
// delivery). The buffers must outlive the ring (the kernel writes requests into them until the
// ring is closed or the connection ends); the destructor closes the ring first.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/error.h"

struct fuse_session;
struct io_uring;

namespace imgbuild::fs {

class UringWorker {
 public:
  // Sets up the ring for queue qid on the connection's /dev/fuse fd; stop_fd (an eventfd) ends
  // serve() when it becomes readable. Pins the calling thread to CPU qid where allowed.
  static Result<std::unique_ptr<UringWorker>> create(unsigned qid, int fuse_fd, int stop_fd);
  ~UringWorker();
  UringWorker(const UringWorker&) = delete;
  UringWorker& operator=(const UringWorker&) = delete;

  // Allocates the entry's buffers for request and reply payloads of up to payload_size bytes.
  Status allocate(size_t payload_size);

  // Registers the entry and serves requests through se, counting them in served, until the
  // connection ends (the kernel completes the entry's command with ENOTCONN), a command fails in
  // a way that leaves nothing to serve, or stop_fd is readable.
  void serve(fuse_session* se, std::atomic<uint64_t>& served);

  // The worker serving a request on the calling thread, or nullptr.
  static UringWorker* current();
  // libfuse's reply (writev's iov: fuse_out_header, then the reply's arguments), if it answers
  // the request being served: written into the entry (true). Anything else (notifications,
  // answers to /dev/fuse requests) is not taken (false) and goes to /dev/fuse.
  bool take_reply(const iovec* iov, int count);
  // Where the reply data of the request being served may be written in place (the entry's payload
  // buffer), when size bytes fit and nothing has been replied yet; else nullptr.
  char* reply_buffer(size_t size);

 private:
  UringWorker(unsigned qid, int stop_fd);
  bool queue_command(uint32_t cmd);
  bool queue_stop_poll();
  void serve_request(fuse_session* se);
  void set_reply(uint64_t unique, int error, size_t payload_size);

  unsigned qid_;
  int stop_fd_;
  int fuse_fd_ = -1;
  bool fixed_file_ = true;  // /dev/fuse is the ring's registered file 0
  std::unique_ptr<io_uring> ring_;
  bool ring_ready_ = false;
  // One mapping: header page, a page holding the request's headers when made contiguous, then
  // the payload.
  char* mem_ = nullptr;
  size_t mem_size_ = 0;
  char* payload_ = nullptr;
  size_t payload_size_ = 0;
  iovec iov_[2] = {};
  uint64_t commit_id_ = 0;  // the request the next COMMIT_AND_FETCH answers
  uint64_t unique_ = 0;     // the request being served
  bool serving_ = false;    // a request is being served and has no reply yet
};

}  // namespace imgbuild::fs
