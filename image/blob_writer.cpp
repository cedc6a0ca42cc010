#include "image/blob_writer.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/scope_guard.h"
#include "base/sys.h"
#include "image/store_layout.h"

namespace imgbuild::image {

Result<StagedFile> StagedFile::create(const std::string& tmp_dir, std::string_view purpose) {
  std::string path = fs::join(tmp_dir, staging_prefix(purpose) + "XXXXXX");
  int raw = ::mkostemp(path.data(), O_CLOEXEC);
  if (raw < 0) return fail_errno("mkostemp", path);
  UniqueFd fd(raw);
  if (::fchmod(fd.get(), 0644) < 0) {
    int err = errno;
    ::unlink(path.c_str());
    return fail_errno("fchmod", path, err);
  }
  return StagedFile(std::move(fd), std::move(path));
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : fd_(std::move(other.fd_)), path_(std::exchange(other.path_, std::string())) {}

StagedFile& StagedFile::operator=(StagedFile&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) ::unlink(path_.c_str());
    fd_ = std::move(other.fd_);
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

StagedFile::~StagedFile() {
  fd_.reset();
  if (!path_.empty()) ::unlink(path_.c_str());
}

std::string StagedFile::release() {
  fd_.reset();
  return std::exchange(path_, std::string());
}

Status publish_blob_file(const std::string& path, const std::string& blobs_dir,
                         const Digest& digest) {
  std::string target = fs::join(blobs_dir, digest.hex());
  if (::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) < 0) {
    if (errno != EEXIST) return fail_errno("renameat2", path + " -> " + target);
    // Content-addressed: the existing blob has the same bytes.
    ::unlink(path.c_str());
    return {};
  }
  return fs::sync_dir(blobs_dir);
}

Result<BlobWriter> BlobWriter::create(const std::string& tmp_dir, const std::string& blobs_dir) {
  StagedFile file = TRY(StagedFile::create(tmp_dir, "blob"));
  return BlobWriter(std::move(file), blobs_dir);
}

Status BlobWriter::write(std::string_view chunk) {
  if (committed_) return fail(ErrorKind::kInternal, "blob writer: write after commit");
  TRY(sys::write_all(file_.fd(), chunk, file_.path()));
  hasher_.update(chunk);
  size_ += static_cast<int64_t>(chunk.size());
  return {};
}

Result<Digest> BlobWriter::seal(const std::optional<Digest>& expected,
                                std::optional<int64_t> expected_size) {
  if (committed_) return fail(ErrorKind::kInternal, "blob writer: sealed twice");
  committed_ = true;
  // Refused content leaves tmp/ at once, not when the writer is destroyed.
  ScopeGuard discard([this] { ::unlink(file_.release().c_str()); });
  Digest got = Digest::from_hex(hasher_.finish_hex());
  if (expected_size && *expected_size != size_) {
    return fail(ErrorKind::kCorrupt, "blob size mismatch: expected " +
                                         std::to_string(*expected_size) + " bytes, got " +
                                         std::to_string(size_));
  }
  if (expected && *expected != got) {
    return fail(ErrorKind::kCorrupt,
                "blob digest mismatch: expected " + expected->str() + ", got " + got.str());
  }
  TRY(sys::fsync(file_.fd(), file_.path()));
  discard.dismiss();
  sealed_ = got;
  return got;
}

Status BlobWriter::publish() {
  if (!sealed_) return fail(ErrorKind::kInternal, "blob writer: publish before seal");
  std::string path = file_.release();
  auto published = publish_blob_file(path, blobs_dir_, *sealed_);
  if (!published) {
    ::unlink(path.c_str());
    return fail(published.error());
  }
  lease_.reset();
  return {};
}

Result<Digest> BlobWriter::commit(const std::optional<Digest>& expected,
                                  std::optional<int64_t> expected_size) {
  Digest got = TRY(seal(expected, expected_size));
  TRY(publish());
  return got;
}

}  // namespace imgbuild::image
