#include "image/estargz_writer.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "base/parallel.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "image/compression_reader.h"
#include "image/image_config.h"
#include "image/tar_splitter.h"

namespace imgbuild::image {
namespace {

constexpr size_t kBatchBytes = 32 << 20;  // plain bytes compressed per parallel batch

// One gzip member of `plain`. A deflater per thread, reset between members.
Result<std::string> gzip_member(std::string_view plain, int level) {
  struct Deflater {
    z_stream zs{};
    int level = 0;
    bool ready = false;
    ~Deflater() {
      if (ready) deflateEnd(&zs);
    }
  };
  thread_local Deflater d;
  if (d.ready && d.level != level) {
    deflateEnd(&d.zs);
    d.ready = false;
  }
  if (!d.ready) {
    d.zs = z_stream{};
    if (deflateInit2(&d.zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return fail(ErrorKind::kInternal, "eStargz: deflateInit2 failed");
    }
    d.ready = true;
    d.level = level;
  } else {
    deflateReset(&d.zs);
  }
  std::string out(deflateBound(&d.zs, static_cast<uLong>(plain.size())) + 64, '\0');
  d.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  d.zs.avail_in = static_cast<uInt>(plain.size());
  d.zs.next_out = reinterpret_cast<Bytef*>(out.data());
  d.zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&d.zs, Z_FINISH);
  if (rc != Z_STREAM_END) {
    return fail(ErrorKind::kInternal, "eStargz: deflate failed (" + std::to_string(rc) + ")");
  }
  out.resize(d.zs.total_out);
  return out;
}

// The TOC's modtime: Go's formatting (rounded to the second, empty for the epoch).
std::string toc_modtime(int64_t seconds, long nsec) {
  if (nsec >= 500000000) ++seconds;
  return seconds == 0 ? "" : rfc3339_utc(seconds);
}

std::string_view type_name(TarEntry::Type type) {
  switch (type) {
    case TarEntry::Type::kRegular: return "reg";
    case TarEntry::Type::kHardLink: return "hardlink";
    case TarEntry::Type::kSymlink: return "symlink";
    case TarEntry::Type::kChar: return "char";
    case TarEntry::Type::kBlock: return "block";
    case TarEntry::Type::kDirectory: return "dir";
    case TarEntry::Type::kFifo: return "fifo";
  }
  return "reg";
}

// A ustar header block for the TOC entry (regular file, mode 0644, owner 0, mtime 0).
std::string toc_header(size_t size) {
  std::string h(512, '\0');
  auto put = [&](size_t offset, size_t length, std::string_view text) {
    std::memcpy(h.data() + offset, text.data(), std::min(length, text.size()));
  };
  auto octal = [&](size_t offset, size_t length, uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%0*llo", static_cast<int>(length - 1),
                  static_cast<unsigned long long>(value));
    put(offset, length - 1, buf);
  };
  put(0, 100, estargz::kTocName);
  octal(100, 8, 0644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  h[156] = '0';
  put(257, 6, std::string_view("ustar\0", 6));
  put(263, 2, "00");
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06o", sum);
  std::memcpy(h.data() + 148, buf, 7);  // six digits, NUL, then the space already there
  return h;
}

// Members are gathered in plain form, compressed a batch at a time in parallel, and written in
// order; each member's blob offset is known once its batch is written.
class MemberWriter {
 public:
  MemberWriter(int out_fd, const EstargzOptions& options) : out_fd_(out_fd), options_(options) {}

  void append(std::string_view plain) {
    current_.append(plain);
    plain_sha_.update(plain);
    uncompressed_ += static_cast<int64_t>(plain.size());
  }
  // Ends the current member (if it holds anything) and returns the index the next one gets.
  Result<size_t> close_member() {
    if (!current_.empty()) {
      batch_bytes_ += current_.size();
      batch_.push_back(std::move(current_));
      current_.clear();
      ++count_;
      if (batch_bytes_ >= kBatchBytes) TRY(flush());
    }
    return count_;
  }
  Status flush() {
    std::vector<std::string> compressed(batch_.size());
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads =
        static_cast<size_t>(options_.threads > 0 ? options_.threads : std::max<long>(cpus, 1));
    TRY(for_each_parallel(batch_.size(), threads, [&](size_t k) -> Status {
      compressed[k] = TRY(gzip_member(batch_[k], options_.level));
      return {};
    }));
    for (const std::string& c : compressed) {
      offsets_.push_back(written_);
      TRY(write(c));
    }
    batch_.clear();
    batch_bytes_ = 0;
    return {};
  }
  Status write(std::string_view bytes) {
    TRY(sys::write_all(out_fd_, bytes, "eStargz blob"));
    blob_sha_.update(bytes);
    written_ += static_cast<int64_t>(bytes.size());
    return {};
  }
  int64_t offset_of(size_t member) const { return offsets_.at(member); }
  int64_t written() const { return written_; }
  int64_t uncompressed() const { return uncompressed_; }
  Digest plain_digest() { return Digest::from_hex(plain_sha_.finish_hex()); }
  Digest blob_digest() { return Digest::from_hex(blob_sha_.finish_hex()); }

 private:
  int out_fd_;
  EstargzOptions options_;
  std::string current_;
  std::vector<std::string> batch_;
  size_t batch_bytes_ = 0;
  size_t count_ = 0;
  std::vector<int64_t> offsets_;
  int64_t written_ = 0;
  int64_t uncompressed_ = 0;
  Sha256 plain_sha_;
  Sha256 blob_sha_;
};

estargz::TocEntry toc_entry(const SplitTarEntry& e, std::unordered_map<int64_t, std::string>& users,
                            std::unordered_map<int64_t, std::string>& groups) {
  const TarHeader& h = e.header;
  estargz::TocEntry t;
  t.name = h.path;
  t.type = std::string(type_name(h.type));
  t.mode = h.mode;
  t.uid = h.uid;
  t.gid = h.gid;
  auto if_changed = [](std::unordered_map<int64_t, std::string>& last, int64_t id,
                       const std::string& name) -> std::string {
    if (name.empty() || last[id] == name) return "";
    last[id] = name;
    return name;
  };
  t.user_name = if_changed(users, h.uid, e.uname);
  t.group_name = if_changed(groups, h.gid, e.gname);
  t.modtime = toc_modtime(h.mtime, h.mtime_nsec);
  for (const auto& [k, v] : h.xattrs) t.xattrs[k] = v;
  if (h.type == TarEntry::Type::kHardLink || h.type == TarEntry::Type::kSymlink) {
    t.link_name = h.linkname;
  }
  if (h.type == TarEntry::Type::kChar || h.type == TarEntry::Type::kBlock) {
    t.dev_major = h.devmajor;
    t.dev_minor = h.devminor;
  }
  if (h.type == TarEntry::Type::kRegular) t.size = h.size;
  return t;
}

bool is_toc_name(std::string_view name) {
  while (name.starts_with("./") || name.starts_with("/"))
    name.remove_prefix(name[0] == '.' ? 2 : 1);
  return name == estargz::kTocName;
}

struct PendingChunk {
  size_t toc_index;
  size_t member;
};

Result<EstargzBlob> write(int in_fd, int out_fd, const EstargzOptions& options) {
  if (options.chunk_size <= 0) {
    return fail(ErrorKind::kInvalidArgument, "eStargz: chunk size must be positive");
  }
  auto input = TRY(DecompressReader::open(in_fd));
  TarSplitter tar(*input);
  MemberWriter out(out_fd, options);
  estargz::Toc toc;
  std::vector<PendingChunk> chunks;
  std::unordered_map<int64_t, std::string> users, groups;

  while (auto entry = TRY(tar.next())) {
    if (is_toc_name(entry->header.path)) {
      return fail(ErrorKind::kUnsupported,
                  "eStargz: the layer already holds " + entry->header.path +
                      " (an eStargz layer's TOC): convert its plain tar instead");
    }
    out.append(entry->raw_header);
    estargz::TocEntry first = toc_entry(*entry, users, groups);
    if (entry->header.type != TarEntry::Type::kRegular || entry->header.size == 0) {
      if (entry->header.type == TarEntry::Type::kRegular) first.digest = Digest::of("").str();
      toc.entries.push_back(std::move(first));
      continue;
    }
    Sha256 file_sha;
    size_t file_index = toc.entries.size();
    int64_t total = entry->header.size;
    int64_t written = 0;
    while (written < total) {
      int64_t size = std::min(options.chunk_size, total - written);
      estargz::TocEntry chunk;
      if (written == 0) {
        chunk = std::move(first);
      } else {
        chunk.name = entry->header.path;
        chunk.type = "chunk";
      }
      if (total - written >= options.chunk_size) chunk.chunk_size = size;
      chunk.chunk_offset = written;
      size_t member = TRY(out.close_member());
      Sha256 chunk_sha;
      for (int64_t left = size; left > 0;) {
        std::string_view data = TRY(tar.read_data(static_cast<size_t>(left)));
        if (data.empty()) {
          return fail(ErrorKind::kCorrupt, "eStargz: truncated data of " + entry->header.path);
        }
        chunk_sha.update(data);
        file_sha.update(data);
        out.append(data);
        left -= static_cast<int64_t>(data.size());
      }
      chunk.chunk_digest = "sha256:" + chunk_sha.finish_hex();
      chunks.push_back({toc.entries.size(), member});
      toc.entries.push_back(std::move(chunk));
      written += size;
    }
    toc.entries[file_index].digest = "sha256:" + file_sha.finish_hex();
    out.append(TRY(tar.read_padding()));
  }
  for (;;) {
    std::string_view tail = TRY(tar.read_tail());
    if (tail.empty()) break;
    out.append(tail);
  }
  TRY(out.close_member());
  TRY(out.flush());
  for (const PendingChunk& c : chunks) toc.entries[c.toc_index].offset = out.offset_of(c.member);

  EstargzBlob blob;
  blob.source_diff_id = tar.digest();
  std::string json = estargz::serialize_toc(toc);
  blob.toc_digest = Digest::of(json);
  blob.toc_offset = out.written();
  out.append(toc_header(json.size()));
  out.append(json);
  out.append(std::string((512 - json.size() % 512) % 512 + 1024, '\0'));
  TRY(out.close_member());
  TRY(out.flush());
  TRY(out.write(estargz::make_footer(blob.toc_offset)));
  blob.size = out.written();
  blob.digest = out.blob_digest();
  blob.diff_id = out.plain_digest();
  blob.uncompressed_size = out.uncompressed();
  return blob;
}

}  // namespace

std::map<std::string, std::string> EstargzBlob::annotations() const {
  return {{std::string(estargz::kTocDigestAnnotation), toc_digest.str()},
          {std::string(estargz::kUncompressedSizeAnnotation), std::to_string(uncompressed_size)}};
}

Result<EstargzBlob> write_estargz(int in_fd, int out_fd, const EstargzOptions& options) {
  return write(in_fd, out_fd, options);
}

}  // namespace imgbuild::image
