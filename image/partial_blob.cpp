#include "image/partial_blob.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <zlib.h>

#include <charconv>
#include <cstdio>

#include "base/fs.h"
#include "base/sys.h"
#include "image/store.h"

namespace imgbuild::image {
namespace {

uint32_t checksum(std::string_view text) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
}

// Holds an flock on fd until destroyed (flock(LOCK_UN) cannot fail on a valid fd).
class FlockGuard {
 public:
  explicit FlockGuard(int fd) : fd_(fd) {}
  ~FlockGuard() { ::flock(fd_, LOCK_UN); }
  FlockGuard(const FlockGuard&) = delete;
  FlockGuard& operator=(const FlockGuard&) = delete;

 private:
  int fd_;
};

Result<UniqueFd> open_file(const std::string& path, int flags) {
  return sys::open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0644);
}

}  // namespace

std::string partial_range_line(int64_t begin, int64_t end) {
  std::string text = std::to_string(begin) + " " + std::to_string(end);
  char sum[16];
  std::snprintf(sum, sizeof sum, " %08x\n", checksum(text));
  return text + sum;
}

std::optional<ByteRange> parse_partial_range_line(std::string_view line) {
  if (!line.ends_with('\n')) return std::nullopt;
  size_t sum_at = line.rfind(' ');
  if (sum_at == std::string_view::npos || line.size() - sum_at != 10) return std::nullopt;
  std::string_view text = line.substr(0, sum_at);
  uint32_t sum = 0;
  const char* sum_end = line.data() + line.size() - 1;
  auto [p, ec] = std::from_chars(line.data() + sum_at + 1, sum_end, sum, 16);
  if (ec != std::errc() || p != sum_end || sum != checksum(text)) return std::nullopt;
  ByteRange r;
  const char* end = text.data() + text.size();
  auto first = std::from_chars(text.data(), end, r.begin);
  if (first.ec != std::errc() || first.ptr == end || *first.ptr != ' ') return std::nullopt;
  auto second = std::from_chars(first.ptr + 1, end, r.end);
  if (second.ec != std::errc() || second.ptr != end) return std::nullopt;
  if (r.begin < 0 || r.end <= r.begin) return std::nullopt;
  return r;
}

std::string PartialBlob::data_path(const Store& store, const Digest& blob) {
  return fs::join(store.lazy_dir(), std::string(blob.hex()) + ".partial");
}

std::string PartialBlob::ranges_path(const Store& store, const Digest& blob) {
  return fs::join(store.lazy_dir(), std::string(blob.hex()) + ".ranges");
}

Result<PartialBlob> PartialBlob::create(const Store& store, const Descriptor& blob) {
  TRY(fs::make_dirs(store.lazy_dir()));
  std::string data_path = PartialBlob::data_path(store, blob.digest);
  std::string ranges_path = PartialBlob::ranges_path(store, blob.digest);
  UniqueFd data = TRY(open_file(data_path, O_RDWR | O_CREAT));
  UniqueFd ranges = TRY(open_file(ranges_path, O_RDWR | O_CREAT | O_APPEND));
  return PartialBlob(blob, std::move(data_path), std::move(ranges_path), std::move(data),
                     std::move(ranges));
}

Result<std::optional<PartialBlob>> PartialBlob::open(const Store& store, const Descriptor& blob) {
  std::string data_path = PartialBlob::data_path(store, blob.digest);
  std::string ranges_path = PartialBlob::ranges_path(store, blob.digest);
  auto ranges = open_file(ranges_path, O_RDWR | O_APPEND);
  if (!ranges && ranges.error().errno_value() == ENOENT) return std::optional<PartialBlob>();
  if (!ranges) return fail(ranges.error());
  auto data = open_file(data_path, O_RDWR);
  if (!data && data.error().errno_value() == ENOENT) return std::optional<PartialBlob>();
  if (!data) return fail(data.error());
  return std::optional<PartialBlob>(PartialBlob(blob, std::move(data_path), std::move(ranges_path),
                                                std::move(*data), std::move(*ranges)));
}

Status PartialBlob::remove(const Store& store, const Digest& blob) {
  for (const auto& path : {ranges_path(store, blob), data_path(store, blob)}) {
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return fail_errno("unlink", path);
  }
  return {};
}

Status PartialBlob::add(int64_t offset, std::string_view bytes) {
  int64_t end = offset + static_cast<int64_t>(bytes.size());
  if (offset < 0 || end > blob_.size) {
    return fail(ErrorKind::kInvalidArgument,
                data_path_ + ": bytes " + std::to_string(offset) + "-" + std::to_string(end) +
                    " are not within the blob's " + std::to_string(blob_.size));
  }
  if (bytes.empty()) return {};
  TRY(sys::pwrite_all(data_.get(), bytes, offset, data_path_));
  std::lock_guard lock(*mu_);
  TRY(sys::flock(ranges_.get(), LOCK_EX, ranges_path_));
  FlockGuard unlock(ranges_.get());
  std::string line = partial_range_line(offset, end);
  // A line torn by a crash is ended first, so that it spoils no more than itself.
  struct stat st = TRY(sys::fstat(ranges_.get(), ranges_path_));
  if (st.st_size > 0) {
    char last = '\n';
    TRY(sys::pread_some(ranges_.get(), std::span<char>(&last, 1), st.st_size - 1, ranges_path_));
    if (last != '\n') line.insert(0, 1, '\n');
  }
  // One write of one short line to an O_APPEND file: other appenders cannot split it.
  return sys::write_all(ranges_.get(), line, ranges_path_);
}

Result<ByteRanges> PartialBlob::present() const {
  std::string text;
  {
    std::lock_guard lock(*mu_);
    TRY(sys::flock(ranges_.get(), LOCK_SH, ranges_path_));
    FlockGuard unlock(ranges_.get());
    char buf[1 << 16];
    for (;;) {
      size_t n =
          TRY(sys::pread_some(ranges_.get(), buf, static_cast<off_t>(text.size()), ranges_path_));
      if (n == 0) break;
      text.append(buf, n);
    }
  }
  ByteRanges out;
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) break;  // torn: bytes written, record not
    auto r = parse_partial_range_line(std::string_view(text).substr(at, nl + 1 - at));
    if (r && r->end <= blob_.size) out.add(r->begin, r->end);
    at = nl + 1;
  }
  return out;
}

Result<std::string> PartialBlob::read(int64_t offset, size_t size) const {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    size_t n =
        TRY(sys::pread_some(data_.get(), std::span<char>(out.data() + done, size - done),
                            static_cast<off_t>(offset) + static_cast<off_t>(done), data_path_));
    if (n == 0) {
      return fail(ErrorKind::kCorrupt, data_path_ + ": ends before byte " +
                                           std::to_string(offset + static_cast<int64_t>(size)));
    }
    done += n;
  }
  return out;
}

}  // namespace imgbuild::image
