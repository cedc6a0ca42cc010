#include "fs/uring_transport.h"

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314  // libfuse 3.14 (Debian 12)
#endif
#include <fuse_lowlevel.h>
#include <sys/eventfd.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fuse.h>

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include "base/fs.h"

namespace imgbuild::fs {

namespace {

// libfuse's writes to the device: a reply to the request the calling thread serves from the ring
// goes into its entry, everything else to /dev/fuse as libfuse would write it.
ssize_t writev_hook(int fd, iovec* iov, int count, void*) {
  UringWorker* w = UringWorker::current();
  if (w && w->take_reply(iov, count)) {
    ssize_t total = 0;
    for (int i = 0; i < count; ++i) total += static_cast<ssize_t>(iov[i].iov_len);
    return total;
  }
  return ::writev(fd, iov, count);
}

// libfuse's /dev/fuse loop reads as it does without custom io (it handles EINTR itself).
ssize_t read_hook(int fd, void* buf, size_t len, void*) { return ::read(fd, buf, len); }

// "0-3,8-11" -> 8.
unsigned count_cpu_list(const std::string& list) {
  unsigned n = 0;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    std::string part = list.substr(pos, end - pos);
    size_t dash = part.find('-');
    char* e = nullptr;
    unsigned long a = std::strtoul(part.c_str(), &e, 10);
    unsigned long b = dash == std::string::npos ? a : std::strtoul(part.c_str() + dash + 1, &e, 10);
    if (b >= a) n += static_cast<unsigned>(b - a + 1);
    pos = end + 1;
  }
  return n;
}

}  // namespace

unsigned possible_cpus() {
  auto text = read_file("/sys/devices/system/cpu/possible");
  unsigned n = text ? count_cpu_list(*text) : 0;
  if (n == 0) n = static_cast<unsigned>(std::max(1, get_nprocs_conf()));
  return n;
}

char* uring_reply_buffer(size_t size) {
  UringWorker* w = UringWorker::current();
  return w ? w->reply_buffer(size) : nullptr;
}

size_t UringTransport::payload_size(uint32_t max_write, uint32_t max_pages) {
  // Without FUSE_MAX_PAGES the kernel uses its default of 32 pages: never size below that.
  size_t pages = std::max<size_t>(max_pages, 32);
  return std::max({size_t{FUSE_MIN_READ_BUFFER}, size_t{max_write},
                   pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE))});
}

Result<std::unique_ptr<UringTransport>> UringTransport::create(fuse_session* se,
                                                               unsigned max_threads,
                                                               std::atomic<uint64_t>* served) {
  std::unique_ptr<UringTransport> t(new UringTransport);
  t->se_ = se;
  t->fuse_fd_ = fuse_session_fd(se);
  t->served_ = served;
  t->queues_ = possible_cpus();
  t->threads_per_queue_ = max_threads <= 1 ? 1 : std::max(2u, max_threads / t->queues_);
  t->stop_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!t->stop_fd_) return fail_errno("eventfd", "FUSE ring");
  for (unsigned q = 0; q < t->queues_; ++q) {
    for (unsigned i = 0; i < t->threads_per_queue_; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->qid = q;
      try {
        slot->thread = std::thread([raw = t.get(), s = slot.get()] { raw->run(*s); });
      } catch (const std::system_error& e) {
        return fail(ErrorKind::kIo, std::string("starting a FUSE ring thread: ") + e.what());
      }
      t->slots_.push_back(std::move(slot));
    }
  }
  {
    std::unique_lock lock(t->mu_);
    t->cv_.wait(lock, [&] { return t->set_up_ == t->slots_.size(); });
    if (!t->error_.empty()) return fail(ErrorKind::kIo, t->error_);
  }
  fuse_custom_io io{};
  io.writev = writev_hook;
  io.read = read_hook;
  if (int rc = fuse_session_custom_io(se, &io, t->fuse_fd_); rc < 0) {
    return fail_errno("fuse_session_custom_io", "FUSE ring", -rc);
  }
  return t;
}

Status UringTransport::prepare(size_t payload_size) {
  // The threads wait in run() until start(): their workers are not in use.
  for (auto& slot : slots_) TRY(slot->worker->allocate(payload_size));
  return {};
}

void UringTransport::start() {
  std::lock_guard lock(mu_);
  if (phase_ == Phase::kSetup) phase_ = Phase::kServe;
  cv_.notify_all();
}

void UringTransport::run(Slot& slot) {
  auto worker = UringWorker::create(slot.qid, fuse_fd_, stop_fd_.get());
  std::unique_lock lock(mu_);
  if (worker) {
    slot.worker = std::move(*worker);
  } else if (error_.empty()) {
    error_ = worker.error().message();
  }
  ++set_up_;
  cv_.notify_all();
  cv_.wait(lock, [&] { return phase_ != Phase::kSetup; });
  bool serve = phase_ == Phase::kServe && slot.worker;
  lock.unlock();
  if (serve) slot.worker->serve(se_, *served_);
}

UringTransport::~UringTransport() {
  {
    std::lock_guard lock(mu_);
    if (phase_ == Phase::kSetup) phase_ = Phase::kCancel;
    cv_.notify_all();
  }
  // Threads still serving (the connection has not ended) see the eventfd readable and return;
  // their rings close with their workers, after the join.
  if (stop_fd_) {
    uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof(one));
  }
  for (auto& slot : slots_) {
    if (slot->thread.joinable()) slot->thread.join();
  }
}

}  // namespace imgbuild::fs
