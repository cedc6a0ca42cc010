// Staged content on its way into the store: BlobWriter streams bytes into a file under tmp/,
// hashing as it goes, and commit() moves it into blobs/sha256/ by an atomic rename; StagedFile is
// a plain temp file under tmp/ for producers that write through an fd themselves (the layer
// codec), handed to Store::ingest_blob_file().
//
// Both are move-only owners of their temp file and remove it on destruction unless committed. One
// thread at a time per object. Blobs are immutable once renamed in; committing a blob that already
// exists is not an error (the staged copy is dropped).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/sha256.h"
#include "base/unique_fd.h"
#include "image/digest.h"

namespace imgbuild::image {

class StagedFile {
 public:
  // Creates "<tmp_dir>/<owner>-<purpose>-XXXXXX" (mode 0644). The owner prefix lets crash recovery
  // tell whether the creating process is still alive (see store_layout.h).
  static Result<StagedFile> create(const std::string& tmp_dir, std::string_view purpose);
  StagedFile(StagedFile&& other) noexcept;
  StagedFile& operator=(StagedFile&& other) noexcept;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  ~StagedFile();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // Closes the fd and gives up ownership of the file (it will not be removed).
  std::string release();

 private:
  StagedFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

class BlobWriter {
 public:
  // Usually obtained from Store::blob_writer(). blobs_dir is "<root>/blobs/sha256".
  static Result<BlobWriter> create(const std::string& tmp_dir, const std::string& blobs_dir);
  BlobWriter(BlobWriter&&) noexcept = default;
  BlobWriter& operator=(BlobWriter&&) noexcept = default;
  ~BlobWriter() = default;  // the StagedFile member discards uncommitted data

  Status write(std::string_view chunk);
  // Keeps a store Lease (flock fd) alive until the writer is committed or destroyed.
  void hold_lease(UniqueFd lease) { lease_ = std::move(lease); }
  int64_t size() const { return size_; }

  // fsyncs, checks the digest (kCorrupt "blob digest mismatch: expected sha256:..., got
  // sha256:..." when `expected` is given and differs; kCorrupt on a size mismatch when
  // `expected_size` is given) and renames into blobs/. The writer is spent afterwards.
  Result<Digest> commit(const std::optional<Digest>& expected = std::nullopt,
                        std::optional<int64_t> expected_size = std::nullopt);
  // commit() in two steps, for callers with a last check between verifying and publishing (a
  // pull adopts the layer extracted from the blob before the blob itself): seal() finishes the
  // hash, checks it like commit() (a refused file is removed at once) and fsyncs; publish()
  // renames the sealed file into blobs/. A sealed writer destroyed unpublished removes its file.
  Result<Digest> seal(const std::optional<Digest>& expected = std::nullopt,
                      std::optional<int64_t> expected_size = std::nullopt);
  Status publish();

 private:
  BlobWriter(StagedFile file, std::string blobs_dir)
      : file_(std::move(file)), blobs_dir_(std::move(blobs_dir)) {}
  StagedFile file_;
  std::string blobs_dir_;
  Sha256 hasher_;
  int64_t size_ = 0;
  bool committed_ = false;  // sealed or committed: no more writes
  std::optional<Digest> sealed_;
  UniqueFd lease_;
};

// Moves a complete, fsynced file into blobs_dir/<hex> without replacing an existing blob
// (renameat2 RENAME_NOREPLACE; an existing blob wins and the file is removed).
Status publish_blob_file(const std::string& path, const std::string& blobs_dir,
                         const Digest& digest);

}  // namespace imgbuild::image
