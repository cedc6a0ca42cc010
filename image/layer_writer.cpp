#include "image/layer_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/dir_reader.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "image/compression_reader.h"
#include "image/compression_writer.h"
#include "image/tar_writer.h"

namespace imgbuild::image {
namespace {

constexpr size_t kReadChunk = 1 << 20;

std::string proc_path(int dirfd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

bool keep_xattr(std::string_view name) {
  return name.substr(0, 7) != "system." && name != "security.selinux";
}

// Sorted xattrs of dirfd/name, not following symlinks. Filesystems without xattr support have
// none.
Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(int dirfd,
                                                                     const std::string& name,
                                                                     const std::string& rel) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string path = proc_path(dirfd, name);
  std::string names(1024, '\0');
  for (;;) {
    ssize_t n = llistxattr(path.c_str(), names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno == ENOTSUP) return out;
    if (errno != ERANGE) return fail_errno("llistxattr", rel);
    ssize_t need = llistxattr(path.c_str(), nullptr, 0);
    if (need < 0) return fail_errno("llistxattr", rel);
    names.assign(static_cast<size_t>(need) + 1, '\0');
  }
  for (size_t pos = 0; pos < names.size();) {
    std::string key(names.c_str() + pos);
    pos += key.size() + 1;
    if (key.empty() || !keep_xattr(key)) continue;
    std::string value;
    for (;;) {
      ssize_t need = lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
      if (need < 0) {
        if (errno == ENODATA) break;
        return fail_errno("lgetxattr", rel + " " + key);
      }
      value.assign(static_cast<size_t>(need), '\0');
      ssize_t got = lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
      if (got >= 0) {
        value.resize(static_cast<size_t>(got));
        out.emplace_back(std::move(key), std::move(value));
        break;
      }
      if (errno == ENODATA) break;
      if (errno != ERANGE) return fail_errno("lgetxattr", rel + " " + key);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class DirTarrer {
 public:
  DirTarrer(TarWriter& tar, const LayerWriteOptions& options)
      : tar_(tar), options_(options), buf_(kReadChunk, '\0') {}

  Status walk(int dirfd, const std::string& prefix) {
    std::vector<std::string> names = TRY(list(dirfd, prefix));
    for (const auto& name : names) {
      std::string rel = prefix.empty() ? name : prefix + "/" + name;
      struct stat st = TRY(sys::fstat_at(dirfd, name, AT_SYMLINK_NOFOLLOW));
      TRY(add(dirfd, name, rel, st));
    }
    return {};
  }

 private:
  Result<std::vector<std::string>> list(int dirfd, const std::string& rel) {
    auto dir = TRY(fs::DirReader::open_fd(dirfd, rel.empty() ? "." : rel));
    std::vector<std::string> names;
    while (auto e = TRY(dir.next())) names.push_back(std::move(e->name));
    std::sort(names.begin(), names.end());
    return names;
  }

  Status add(int dirfd, const std::string& name, const std::string& rel, const struct stat& st) {
    TarEntry e;
    e.name = rel;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = st.st_mtim.tv_sec;
    if (options_.source_date_epoch && e.mtime > *options_.source_date_epoch) {
      e.mtime = *options_.source_date_epoch;
    }
    UniqueFd fd;
    switch (st.st_mode & S_IFMT) {
      case S_IFREG: {
        if (st.st_nlink > 1) {
          auto [it, inserted] = links_.try_emplace({st.st_dev, st.st_ino}, rel);
          if (!inserted) {
            e.type = TarEntry::Type::kHardLink;
            e.linkname = it->second;
            break;
          }
        }
        e.type = TarEntry::Type::kRegular;
        e.size = st.st_size;
        fd = TRY(open_file(dirfd, name, rel));
        break;
      }
      case S_IFDIR:
        e.type = TarEntry::Type::kDirectory;
        fd = TRY(sys::open_at(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        break;
      case S_IFLNK:
        e.type = TarEntry::Type::kSymlink;
        e.linkname = TRY(sys::readlink_at(dirfd, name));
        break;
      case S_IFCHR:
      case S_IFBLK:
        e.type = S_ISCHR(st.st_mode) ? TarEntry::Type::kChar : TarEntry::Type::kBlock;
        e.devmajor = major(st.st_rdev);
        e.devminor = minor(st.st_rdev);
        break;
      case S_IFIFO: e.type = TarEntry::Type::kFifo; break;
      default: return {};  // sockets: nothing a tar can carry
    }
    e.xattrs = TRY(read_xattrs(dirfd, name, rel));
    TRY(tar_.add(e));
    if (e.type == TarEntry::Type::kRegular) TRY(copy_data(fd.get(), rel, st.st_size, st));
    if (e.type == TarEntry::Type::kDirectory) TRY(walk(fd.get(), rel));
    return {};
  }

  Result<UniqueFd> open_file(int dirfd, const std::string& name, const std::string& rel) {
    // O_NOATIME keeps reading from dirtying the source tree's inodes; only the owner (or root)
    // may ask for it.
    int fd = openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM)
      fd = openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fail_errno("openat", rel);
    return UniqueFd(fd);
  }

  // Streams exactly `size` bytes. Holes (SEEK_HOLE) are emitted as zeros without reading them.
  Status copy_data(int fd, const std::string& rel, int64_t size, const struct stat& st) {
    bool maybe_sparse = st.st_blocks * 512 < size;
    int64_t pos = 0;
    while (pos < size) {
      int64_t data_end = size;
      if (maybe_sparse) {
        off_t data = lseek(fd, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO) data = size;  // only a hole up to the end
        if (data >= 0) {
          int64_t hole_end = std::min<int64_t>(data, size);
          TRY(write_zeros(hole_end - pos));
          pos = hole_end;
          if (pos >= size) break;
          off_t hole = lseek(fd, pos, SEEK_HOLE);
          data_end = hole >= 0 ? std::min<int64_t>(hole, size) : size;
        }
      }
      while (pos < data_end) {
        size_t want = static_cast<size_t>(std::min<int64_t>(data_end - pos, kReadChunk));
        size_t n = TRY(sys::pread_some(fd, {buf_.data(), want}, pos, rel));
        if (n == 0) {
          return fail(ErrorKind::kIo, "reading " + rel + ": file shrank while being archived");
        }
        TRY(tar_.write_data(std::string_view(buf_.data(), n)));
        pos += static_cast<off_t>(n);
      }
    }
    return {};
  }

  Status write_zeros(int64_t n) {
    static const std::string kZeros(kReadChunk, '\0');
    while (n > 0) {
      size_t k = static_cast<size_t>(std::min<int64_t>(n, kReadChunk));
      TRY(tar_.write_data(std::string_view(kZeros.data(), k)));
      n -= static_cast<int64_t>(k);
    }
    return {};
  }

  TarWriter& tar_;
  const LayerWriteOptions& options_;
  std::string buf_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first name of each hard-linked inode
};

// The two hashes (one when uncompressed) and the compressor, joined.
class Pipeline {
 public:
  static Result<Pipeline> create(int out_fd, const LayerWriteOptions& options) {
    auto compressor =
        TRY(BlobCompressor::create(options.compression, out_fd, options.level, options.threads));
    return Pipeline(std::move(compressor), options.compression);
  }
  // An uncompressed blob is the tar itself: its digest is the diff ID, hashed once.
  Status write(std::string_view data) {
    if (compression_ != Compression::kNone) diff_.update(data);
    return compressor_->write(data);
  }
  Result<LayerBlob> finish() {
    CompressedBlob blob = TRY(compressor_->finish());
    Digest diff_id =
        compression_ == Compression::kNone ? blob.digest : Digest::from_hex(diff_.finish_hex());
    return LayerBlob{blob.digest, diff_id, blob.size, std::string(layer_media_type(compression_))};
  }

 private:
  Pipeline(std::unique_ptr<BlobCompressor> c, Compression compression)
      : compressor_(std::move(c)), compression_(compression) {}
  std::unique_ptr<BlobCompressor> compressor_;
  Compression compression_;
  Sha256 diff_;
};

}  // namespace

Result<LayerBlob> write_layer_from_dir(const std::string& dir, int out_fd,
                                       const LayerWriteOptions& options) {
  std::string ctx = "writing layer from " + dir;
  UniqueFd root = TRY_CTX(sys::open(dir, O_RDONLY | O_DIRECTORY), ctx);
  Pipeline pipeline = TRY_CTX(Pipeline::create(out_fd, options), ctx);
  TarWriter tar([&](std::string_view chunk) { return pipeline.write(chunk); });
  DirTarrer tarrer(tar, options);
  TRY_CTX(tarrer.walk(root.get(), ""), ctx);
  TRY_CTX(tar.finish(), ctx);
  return with_context(pipeline.finish(), ctx);
}

Result<LayerBlob> write_layer_from_tar(int tar_fd, int out_fd, const LayerWriteOptions& options) {
  std::string ctx = "writing layer from tar";
  auto reader = TRY_CTX(DecompressReader::open(tar_fd), ctx);
  Pipeline pipeline = TRY_CTX(Pipeline::create(out_fd, options), ctx);
  for (;;) {
    std::string_view chunk = TRY_CTX(reader->next(), ctx);
    if (chunk.empty()) break;
    TRY_CTX(pipeline.write(chunk), ctx);
  }
  return with_context(pipeline.finish(), ctx);
}

}  // namespace imgbuild::image
