#include "image/compression_reader.h"

#include <archive.h>
#include <zlib.h>
#include <zstd.h>

#include <string>
#include <thread>

#include "base/sys.h"
#include "image/chunk_queue.h"

namespace imgbuild::image {
namespace {

constexpr size_t kChunk = 256 * 1024;

// The raw input: the bytes already read for detection, then the rest of the fd.
class RawInput {
 public:
  RawInput(int fd, std::string head) : fd_(fd), buf_(std::move(head)) {}

  // Returns the next raw chunk (empty at EOF).
  Result<std::string_view> next() {
    if (!head_used_) {
      head_used_ = true;
      if (!buf_.empty()) return std::string_view(buf_);
    }
    buf_.resize(kChunk);
    size_t n = TRY(sys::read_some(fd_, buf_, "layer blob"));
    buf_.resize(n);
    return std::string_view(buf_);
  }

 private:
  int fd_;
  std::string buf_;
  bool head_used_ = false;
};

class PlainReader final : public DecompressReader {
 public:
  explicit PlainReader(RawInput in) : DecompressReader(StreamFormat::kPlain), in_(std::move(in)) {}
  Result<std::string_view> next() override { return in_.next(); }

 private:
  RawInput in_;
};

class GzipReader final : public DecompressReader {
 public:
  explicit GzipReader(RawInput in)
      : DecompressReader(StreamFormat::kGzip), in_(std::move(in)), out_(kChunk, '\0') {}
  ~GzipReader() override {
    if (initialized_) inflateEnd(&zs_);
  }

  Result<std::string_view> next() override {
    if (!initialized_) {
      if (inflateInit2(&zs_, 15 + 16) != Z_OK)
        return fail(ErrorKind::kInternal, "gzip: inflateInit2 failed");
      initialized_ = true;
    }
    for (;;) {
      if (finished_) return std::string_view();
      if (zs_.avail_in == 0) {
        input_ = TRY(in_.next());
        if (input_.empty()) {
          if (in_member_) return fail(ErrorKind::kCorrupt, "gzip: truncated stream");
          finished_ = true;
          return std::string_view();
        }
        zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input_.data()));
        zs_.avail_in = static_cast<uInt>(input_.size());
      }
      if (!in_member_) {
        // Another gzip member follows (pigz and `cat a.gz b.gz` produce these).
        if (zs_.avail_in > 0 && zs_.next_in[0] != 0x1f) {
          return fail(ErrorKind::kCorrupt, "gzip: trailing garbage after the compressed stream");
        }
        inflateReset(&zs_);
        in_member_ = true;
      }
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
      zs_.avail_out = static_cast<uInt>(out_.size());
      int rc = inflate(&zs_, Z_NO_FLUSH);
      size_t produced = out_.size() - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        in_member_ = false;
      } else if (rc == Z_BUF_ERROR && produced == 0 && zs_.avail_in > 0) {
        return fail(ErrorKind::kCorrupt, "gzip: corrupt data");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return fail(ErrorKind::kCorrupt,
                    std::string("gzip: ") + (zs_.msg != nullptr ? zs_.msg : "corrupt data"));
      }
      if (produced > 0) return std::string_view(out_.data(), produced);
    }
  }

 private:
  RawInput in_;
  std::string out_;
  std::string_view input_;
  z_stream zs_{};
  bool initialized_ = false;
  bool in_member_ = true;
  bool finished_ = false;
};

class ZstdReader final : public DecompressReader {
 public:
  explicit ZstdReader(RawInput in)
      : DecompressReader(StreamFormat::kZstd),
        in_(std::move(in)),
        out_(ZSTD_DStreamOutSize(), '\0'),
        dctx_(ZSTD_createDCtx()) {}
  ~ZstdReader() override { ZSTD_freeDCtx(dctx_); }

  Result<std::string_view> next() override {
    if (dctx_ == nullptr) return fail(ErrorKind::kInternal, "zstd: cannot allocate a context");
    for (;;) {
      if (in_buf_.pos == in_buf_.size) {
        std::string_view chunk = TRY(in_.next());
        if (chunk.empty()) {
          if (hint_ != 0) return fail(ErrorKind::kCorrupt, "zstd: truncated stream");
          return std::string_view();
        }
        in_buf_ = ZSTD_inBuffer{chunk.data(), chunk.size(), 0};
      }
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      size_t rc = ZSTD_decompressStream(dctx_, &out, &in_buf_);
      if (ZSTD_isError(rc)) {
        return fail(ErrorKind::kCorrupt, std::string("zstd: ") + ZSTD_getErrorName(rc));
      }
      hint_ = rc;
      if (out.pos > 0) return std::string_view(out_.data(), out.pos);
    }
  }

 private:
  RawInput in_;
  std::string out_;
  ZSTD_DCtx* dctx_;
  ZSTD_inBuffer in_buf_{nullptr, 0, 0};
  size_t hint_ = 1;  // nonzero while a frame is incomplete
};

// xz and bzip2 (only seen on imported tars) go through libarchive's filters in raw mode.
class ArchiveFilterReader final : public DecompressReader {
 public:
  ArchiveFilterReader(StreamFormat format, RawInput in)
      : DecompressReader(format), in_(std::move(in)), out_(kChunk, '\0') {}
  ~ArchiveFilterReader() override {
    if (a_ != nullptr) archive_read_free(a_);
  }

  Result<std::string_view> next() override {
    if (a_ == nullptr) TRY(start());
    la_ssize_t n = archive_read_data(a_, out_.data(), out_.size());
    if (n < 0) return TRY(error());
    return std::string_view(out_.data(), static_cast<size_t>(n));
  }

 private:
  static la_ssize_t read_cb(struct archive* a, void* self, const void** buf) {
    auto* reader = static_cast<ArchiveFilterReader*>(self);
    auto chunk = reader->in_.next();
    if (!chunk) {
      archive_set_error(a, chunk.error().errno_value(), "%s", chunk.error().message().c_str());
      return -1;
    }
    *buf = chunk->data();
    return static_cast<la_ssize_t>(chunk->size());
  }

  Result<std::string_view> error() {
    const char* msg = archive_error_string(a_);
    return fail(ErrorKind::kCorrupt, std::string(stream_format_name(format())) + ": " +
                                         (msg != nullptr ? msg : "corrupt data"));
  }

  Status start() {
    a_ = archive_read_new();
    if (a_ == nullptr) return fail(ErrorKind::kInternal, "archive_read_new failed");
    archive_read_support_filter_xz(a_);
    archive_read_support_filter_bzip2(a_);
    archive_read_support_format_raw(a_);
    if (archive_read_open(a_, this, nullptr, read_cb, nullptr) != ARCHIVE_OK) {
      TRY(error());
    }
    struct archive_entry* entry = nullptr;
    if (archive_read_next_header(a_, &entry) != ARCHIVE_OK) TRY(error());
    return {};
  }

  RawInput in_;
  std::string out_;
  struct archive* a_ = nullptr;
};

// Decompresses on its own thread, a few chunks ahead of the consumer (who is busy writing files).
class ThreadedReader final : public DecompressReader {
 public:
  explicit ThreadedReader(std::unique_ptr<DecompressReader> inner)
      : DecompressReader(inner->format()),
        inner_(std::move(inner)),
        queue_(8),
        thread_([this] { run(); }) {}
  ~ThreadedReader() override {
    queue_.fail(Error(ErrorKind::kCancelled, "decompression cancelled"));
    thread_.join();
  }

  Result<std::string_view> next() override {
    auto chunk = queue_.pop();
    if (!chunk) {
      if (auto error = queue_.error()) return fail(*error);
      return std::string_view();
    }
    current_ = std::move(*chunk);
    return std::string_view(current_);
  }

 private:
  void run() {
    for (;;) {
      auto chunk = inner_->next();
      if (!chunk) {
        queue_.fail(chunk.error());
        return;
      }
      if (chunk->empty()) break;
      if (!queue_.push(std::string(*chunk))) return;
    }
    queue_.close();
  }

  std::unique_ptr<DecompressReader> inner_;
  ChunkQueue queue_;
  std::string current_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace

Result<std::unique_ptr<DecompressReader>> DecompressReader::open(int fd) {
  std::string head(6, '\0');
  size_t got = 0;
  while (got < head.size()) {
    size_t n = TRY(
        sys::read_some(fd, std::span<char>(head.data() + got, head.size() - got), "layer blob"));
    if (n == 0) break;
    got += n;
  }
  head.resize(got);
  StreamFormat format = detect_stream_format(head);
  RawInput in(fd, std::move(head));
  switch (format) {
    case StreamFormat::kPlain:
      return std::unique_ptr<DecompressReader>(std::make_unique<PlainReader>(std::move(in)));
    case StreamFormat::kGzip:
      return std::unique_ptr<DecompressReader>(
          std::make_unique<ThreadedReader>(std::make_unique<GzipReader>(std::move(in))));
    case StreamFormat::kZstd:
      return std::unique_ptr<DecompressReader>(
          std::make_unique<ThreadedReader>(std::make_unique<ZstdReader>(std::move(in))));
    case StreamFormat::kXz:
    case StreamFormat::kBzip2:
      return std::unique_ptr<DecompressReader>(std::make_unique<ThreadedReader>(
          std::make_unique<ArchiveFilterReader>(format, std::move(in))));
  }
  return fail(ErrorKind::kInternal, "unknown stream format");
}

}  // namespace imgbuild::image
