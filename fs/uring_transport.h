// FUSE over io_uring (Linux 6.14+, when /sys/module/fuse/parameters/enable_uring is Y): the
// kernel hands requests to ring entries that serving threads registered, one queue per possible
// CPU, instead of queueing them for read(2) on /dev/fuse, and takes each reply with the fetch of
// the next request (one io_uring_enter per request instead of a read and a write). libfuse 3.14
// has no support, so this is imgfs's own loop around libfuse's request processing
// (fs/uring_worker.h), beside libfuse's /dev/fuse loop, which keeps serving what the ring does not
// carry (FORGET, INTERRUPT, requests made before the ring is ready) and everything if the ring
// cannot be used. Notifications (fuse_lowlevel_notify_*) go to /dev/fuse as before.
//
// Setup follows the INIT exchange (fs/passthrough.h negotiate_init), because once the kernel has
// the INIT answer with FUSE_OVER_IO_URING it holds every request until each queue has an entry:
//  1. create(), before libfuse handles INIT: starts the threads, each setting up its io_uring, and
//     installs libfuse's custom io, whose writev catches the replies to ring requests. Failing
//     here (io_uring disabled by kernel.io_uring_disabled or seccomp, no memory) leaves the
//     session untouched: no flag, /dev/fuse as before. The custom io turns libfuse's splicing off
//     (it cannot splice to a custom device): lower files' reads are copied, not spliced, also on
//     /dev/fuse, on such connections only.
//  2. prepare(payload_size), with libfuse's INIT answer in hand: the entries' buffers.
//  3. start(), after the answer reached the kernel: the threads register their entries and serve.
// Destroying the transport before start() ends the threads without registering anything.
//
// Threads: threads_per_queue for each queue (max_threads / queues, at least 2 so that one slow
// request does not hold a CPU's queue, 1 when max_threads is 1), pinned to the queue's CPU where
// the cpuset allows. Each holds one io_uring fd and its buffers (payload_size + 8 KiB, touched as
// used); the transport holds one eventfd. They end when the connection ends (umount, abort); the
// destructor also wakes and joins them.
//
// Replies must be sent from the thread that runs the callback, before it returns (true of every
// imgfs callback); a request left without one is answered EIO.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "fs/uring_worker.h"

struct fuse_session;

namespace imgbuild::fs {

class UringTransport {
 public:
  // Step 1 (see the file comment) for session se; served counts the requests served through the
  // ring.
  static Result<std::unique_ptr<UringTransport>> create(fuse_session* se, unsigned max_threads,
                                                        std::atomic<uint64_t>* served);
  // The payload buffer size the kernel requires of every entry for an INIT answer with these
  // limits: max(FUSE_MIN_READ_BUFFER, max_write, max_pages pages).
  static size_t payload_size(uint32_t max_write, uint32_t max_pages);
  // Step 2.
  Status prepare(size_t payload_size);
  // Step 3.
  void start();
  ~UringTransport();
  UringTransport(const UringTransport&) = delete;
  UringTransport& operator=(const UringTransport&) = delete;

  unsigned queues() const { return queues_; }
  unsigned threads_per_queue() const { return threads_per_queue_; }

 private:
  enum class Phase { kSetup, kServe, kCancel };
  struct Slot {
    unsigned qid = 0;
    std::unique_ptr<UringWorker> worker;
    std::thread thread;
  };
  UringTransport() = default;
  void run(Slot& slot);

  fuse_session* se_ = nullptr;
  int fuse_fd_ = -1;
  std::atomic<uint64_t>* served_ = nullptr;
  unsigned queues_ = 0;
  unsigned threads_per_queue_ = 0;
  UniqueFd stop_fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  Phase phase_ = Phase::kSetup;
  size_t set_up_ = 0;  // threads that finished setting up (failed or not)
  std::string error_;  // the first setup failure
  std::vector<std::unique_ptr<Slot>> slots_;
};

// Possible CPUs (/sys/devices/system/cpu/possible, as the kernel counts its FUSE queues).
unsigned possible_cpus();

// For a READ callback: where its data may be read to directly when the request came through the
// ring (the entry's own buffer; reply with fuse_reply_buf on it and nothing is copied again), or
// nullptr. libfuse's way, fuse_reply_data on a file, reads into a buffer of its own and copies it.
char* uring_reply_buffer(size_t size);

}  // namespace imgbuild::fs
