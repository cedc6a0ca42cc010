#include "image/compression_writer.h"

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/sha256.h"
#include "base/sys.h"
#include "image/chunk_queue.h"

namespace imgbuild::image {
namespace {

std::atomic<uint64_t> g_compressed_bytes{0};

enum class Counted { kNo, kYes };

// Where compressed bytes go: the caller's fd, hashed on the way.
class HashedOutput {
 public:
  explicit HashedOutput(int fd, Counted counted = Counted::kYes) : fd_(fd), counted_(counted) {}
  Status write(std::string_view data) {
    if (data.empty()) return {};
    sha_.update(data);
    size_ += static_cast<int64_t>(data.size());
    if (counted_ == Counted::kYes) g_compressed_bytes.fetch_add(data.size());
    return sys::write_all(fd_, data, "layer blob");
  }
  CompressedBlob finish() { return {Digest::from_hex(sha_.finish_hex()), size_}; }

 private:
  int fd_;
  Counted counted_;
  Sha256 sha_;
  int64_t size_ = 0;
};

int default_threads(int threads) {
  if (threads > 0) return threads;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

class PlainCompressor final : public BlobCompressor {
 public:
  explicit PlainCompressor(int fd) : out_(fd, Counted::kNo) {}
  Status write(std::string_view data) override { return out_.write(data); }
  Result<CompressedBlob> finish() override { return out_.finish(); }

 private:
  HashedOutput out_;
};

class ZstdCompressor final : public BlobCompressor {
 public:
  ZstdCompressor(int fd, ZSTD_CCtx* cctx)
      : out_(fd), cctx_(cctx), buf_(ZSTD_CStreamOutSize(), '\0') {}
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }

  static Result<std::unique_ptr<BlobCompressor>> create(int fd, int level, int threads) {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    if (cctx == nullptr) return fail(ErrorKind::kInternal, "zstd: cannot allocate a context");
    auto owner = std::make_unique<ZstdCompressor>(fd, cctx);
    TRY(owner->check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)));
    // A libzstd built without threads rejects nbWorkers; single-threaded output is still valid.
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, threads);
    return std::unique_ptr<BlobCompressor>(std::move(owner));
  }

  Status write(std::string_view data) override {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
      TRY(check(ZSTD_compressStream2(cctx_, &out, &in, ZSTD_e_continue)));
      TRY(out_.write(std::string_view(buf_.data(), out.pos)));
    }
    return {};
  }

  Result<CompressedBlob> finish() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    size_t remaining = 0;
    do {
      ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
      remaining = TRY(check(ZSTD_compressStream2(cctx_, &out, &in, ZSTD_e_end)));
      TRY(out_.write(std::string_view(buf_.data(), out.pos)));
    } while (remaining != 0);
    return out_.finish();
  }

 private:
  Result<size_t> check(size_t code) {
    if (ZSTD_isError(code)) {
      return fail(ErrorKind::kInternal, std::string("zstd: ") + ZSTD_getErrorName(code));
    }
    return code;
  }

  HashedOutput out_;
  ZSTD_CCtx* cctx_;
  std::string buf_;
};

// How a gzip block's deflate stream ends: a sync flush (more blocks follow) or the stream's end.
enum class BlockEnd { kSyncFlush, kFinish };

// Parallel gzip. Block i is deflated on its own, primed with the last 32 KiB of block i-1, and
// ends with a sync flush (byte-aligned, not final); the last block ends the stream. Concatenating
// the results gives one valid deflate stream. CRCs are combined in order on the caller's thread.
class GzipCompressor final : public BlobCompressor {
 public:
  static constexpr size_t kBlockSize = 128 * 1024;
  static constexpr size_t kDictSize = 32 * 1024;

  GzipCompressor(int fd, int level, int threads) : out_(fd), level_(level) {
    max_in_flight_ = static_cast<size_t>(threads) * 2 + 2;
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
    pending_.reserve(kBlockSize);
  }
  ~GzipCompressor() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  Status write(std::string_view data) override {
    if (!header_written_) {
      // Fixed header: no name, mtime 0, OS "unknown", so the blob is reproducible.
      static constexpr char kHeader[] = {0x1f, static_cast<char>(0x8b), 8, 0, 0, 0, 0, 0,
                                         0,    static_cast<char>(0xff)};
      TRY(out_.write(std::string_view(kHeader, sizeof kHeader)));
      header_written_ = true;
    }
    while (!data.empty()) {
      size_t n = std::min(data.size(), kBlockSize - pending_.size());
      pending_.append(data.substr(0, n));
      data.remove_prefix(n);
      if (pending_.size() == kBlockSize) TRY(submit(BlockEnd::kSyncFlush));
    }
    return {};
  }

  Result<CompressedBlob> finish() override {
    if (!header_written_) TRY(write({}));
    TRY(submit(BlockEnd::kFinish));
    while (!jobs_.empty()) TRY(emit_front());
    char trailer[8];
    for (int i = 0; i < 4; ++i) {
      trailer[i] = static_cast<char>((crc_ >> (8 * i)) & 0xff);
      trailer[4 + i] = static_cast<char>((total_in_ >> (8 * i)) & 0xff);
    }
    TRY(out_.write(std::string_view(trailer, sizeof trailer)));
    return out_.finish();
  }

 private:
  struct Job {
    std::string in;
    std::string dict;
    BlockEnd end = BlockEnd::kSyncFlush;
    bool claimed = false;
    bool done = false;
    std::string out;
    uLong crc = 0;
    std::string error;
  };

  Status submit(BlockEnd end) {
    auto job = std::make_shared<Job>();
    job->in = std::move(pending_);
    job->dict = std::move(dict_);
    job->end = end;
    size_t keep = std::min(job->in.size(), kDictSize);
    dict_.assign(job->in, job->in.size() - keep, keep);
    pending_.clear();
    pending_.reserve(kBlockSize);
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(job);
    }
    work_cv_.notify_one();
    while (jobs_.size() >= max_in_flight_) TRY(emit_front());
    return {};
  }

  // Waits for the oldest job and writes its output.
  Status emit_front() {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      done_cv_.wait(lock, [&] { return jobs_.front()->done; });
      job = jobs_.front();
      jobs_.pop_front();
    }
    if (!job->error.empty()) return fail(ErrorKind::kInternal, "gzip: " + job->error);
    crc_ = crc32_combine(crc_, job->crc, static_cast<z_off_t>(job->in.size()));
    total_in_ += job->in.size();
    return out_.write(job->out);
  }

  void work() {
    z_stream zs{};
    bool ready = deflateInit2(&zs, level_, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] {
          if (stop_) return true;
          for (auto& j : jobs_) {
            if (!j->claimed) return true;
          }
          return false;
        });
        for (auto& j : jobs_) {
          if (!j->claimed) {
            job = j;
            break;
          }
        }
        if (!job) break;  // stop_ with nothing left to do
        job->claimed = true;
      }
      if (!ready) {
        job->error = "deflateInit2 failed";
      } else {
        compress(zs, *job);
      }
      {
        std::lock_guard lock(mu_);
        job->done = true;
      }
      done_cv_.notify_all();
    }
    if (ready) deflateEnd(&zs);
  }

  static void compress(z_stream& zs, Job& job) {
    job.crc =
        crc32(0L, reinterpret_cast<const Bytef*>(job.in.data()), static_cast<uInt>(job.in.size()));
    deflateReset(&zs);
    if (!job.dict.empty()) {
      deflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(job.dict.data()),
                           static_cast<uInt>(job.dict.size()));
    }
    job.out.resize(deflateBound(&zs, static_cast<uLong>(job.in.size())) + 64);
    zs.next_in = reinterpret_cast<Bytef*>(job.in.data());
    zs.avail_in = static_cast<uInt>(job.in.size());
    zs.next_out = reinterpret_cast<Bytef*>(job.out.data());
    zs.avail_out = static_cast<uInt>(job.out.size());
    bool last = job.end == BlockEnd::kFinish;
    int rc = deflate(&zs, last ? Z_FINISH : Z_SYNC_FLUSH);
    bool ok = last ? rc == Z_STREAM_END : (rc == Z_OK && zs.avail_in == 0 && zs.avail_out > 0);
    if (!ok) {
      job.error = "deflate failed (" + std::to_string(rc) + ")";
      return;
    }
    job.out.resize(job.out.size() - zs.avail_out);
  }

  HashedOutput out_;
  int level_;
  size_t max_in_flight_;
  bool header_written_ = false;
  std::string pending_;
  std::string dict_;
  uLong crc_ = crc32(0L, Z_NULL, 0);
  uint64_t total_in_ = 0;

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::shared_ptr<Job>> jobs_;  // in stream order; guarded by mu_
  bool stop_ = false;
  std::vector<std::thread> workers_;  // last member: joined before the state above goes away
};

// Runs another compressor on its own thread, so the producer (walking, reading and hashing the
// tree) never waits while the compressor's calling thread flushes output or waits for workers.
class ThreadedCompressor final : public BlobCompressor {
 public:
  explicit ThreadedCompressor(std::unique_ptr<BlobCompressor> inner)
      : inner_(std::move(inner)), queue_(8), thread_([this] { run(); }) {}
  ~ThreadedCompressor() override {
    if (thread_.joinable()) {
      queue_.fail(Error(ErrorKind::kCancelled, "compression cancelled"));
      thread_.join();
    }
  }

  Status write(std::string_view data) override {
    if (data.empty()) return {};
    if (!queue_.push(std::string(data))) return fail(*queue_.error());
    return {};
  }
  Result<CompressedBlob> finish() override {
    queue_.close();
    thread_.join();
    if (auto error = queue_.error()) return fail(*error);
    return result_;
  }

 private:
  void run() {
    while (auto chunk = queue_.pop()) {
      auto status = inner_->write(*chunk);
      if (!status) {
        queue_.fail(status.error());
        return;
      }
    }
    if (queue_.error()) return;
    auto result = inner_->finish();
    if (!result) {
      queue_.fail(result.error());
      return;
    }
    result_ = *result;
  }

  std::unique_ptr<BlobCompressor> inner_;
  ChunkQueue queue_;
  CompressedBlob result_;  // written by the thread before it ends; read after join()
  std::thread thread_;     // last: started once everything above exists
};

}  // namespace

uint64_t compressed_bytes_produced() { return g_compressed_bytes.load(); }

Result<std::unique_ptr<BlobCompressor>> BlobCompressor::create(Compression compression, int out_fd,
                                                               int level, int threads) {
  threads = default_threads(threads);
  switch (compression) {
    case Compression::kNone:
      return std::unique_ptr<BlobCompressor>(std::make_unique<PlainCompressor>(out_fd));
    case Compression::kGzip:
      if (level == -1) level = 6;
      if (level < 1 || level > 9) {
        return fail(ErrorKind::kInvalidArgument,
                    "gzip level " + std::to_string(level) + " out of range 1..9");
      }
      return std::unique_ptr<BlobCompressor>(
          std::make_unique<GzipCompressor>(out_fd, level, threads));
    case Compression::kZstd:
      if (level == -1) level = 3;
      if (level < 1 || level > ZSTD_maxCLevel()) {
        return fail(ErrorKind::kInvalidArgument, "zstd level " + std::to_string(level) +
                                                     " out of range 1.." +
                                                     std::to_string(ZSTD_maxCLevel()));
      }
      return std::unique_ptr<BlobCompressor>(std::make_unique<ThreadedCompressor>(
          TRY(ZstdCompressor::create(out_fd, level, threads))));
    case Compression::kEstargz:
      return fail(ErrorKind::kUnsupported,
                  "eStargz layers are written only by push, save and build --push/--output");
  }
  return fail(ErrorKind::kInternal, "unknown compression");
}

}  // namespace imgbuild::image
