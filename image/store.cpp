#include "image/store.h"

#include <sys/stat.h>

#include "base/sys.h"
#include "image/store_state.h"

namespace imgbuild::image {

Result<Store> Store::open(const std::string& root) {
  if (root.empty()) return fail(ErrorKind::kInvalidArgument, "store root is empty");
  auto state = std::make_shared<State>(fs::absolute(root));
  TRY_CTX(init_layout(state->paths), "opening store " + state->paths.root);
  TRY_CTX(clean_leftovers(state->paths), "opening store " + state->paths.root);
  return Store(std::move(state));
}

const std::string& Store::root() const { return state_->paths.root; }
std::string Store::tmp_dir() const { return state_->paths.tmp; }
std::string Store::cache_records_dir() const { return state_->paths.cache_records; }
std::string Store::containers_dir() const { return state_->paths.containers; }
std::string Store::mounts_dir() const { return state_->paths.mounts; }
std::string Store::lazy_dir() const { return state_->paths.lazy; }

Result<Store::Lease> Store::lease() const {
  FileLock lock = TRY(FileLock::acquire(state_->paths.gc_lock, LockMode::kShared));
  return Lease(lock.release_fd());
}

std::string Store::blob_path(const Digest& digest) const {
  return fs::join(state_->paths.blobs, digest.hex());
}

bool Store::has_blob(const Digest& digest) const { return fs::exists(blob_path(digest)); }

Result<int64_t> Store::blob_size(const Digest& digest) const {
  struct stat st {};
  if (::stat(blob_path(digest).c_str(), &st) < 0) {
    if (errno == ENOENT) return fail(ErrorKind::kNotFound, "blob not found: " + digest.str());
    return fail_errno("stat", blob_path(digest));
  }
  return static_cast<int64_t>(st.st_size);
}

Result<UniqueFd> Store::open_blob(const Digest& digest) const {
  auto fd = sys::open(blob_path(digest), O_RDONLY);
  if (!fd && fd.error().errno_value() == ENOENT) {
    return fail(ErrorKind::kNotFound, "blob not found: " + digest.str());
  }
  return fd;
}

Result<std::string> Store::read_blob(const Digest& digest) const {
  UniqueFd fd = TRY(open_blob(digest));
  std::string data = TRY(sys::read_all(fd.get(), blob_path(digest)));
  Digest got = Digest::of(data);
  if (got != digest) {
    return fail(ErrorKind::kCorrupt,
                "blob " + blob_path(digest) + " is corrupt: its content hashes to " + got.str());
  }
  return data;
}

Result<Digest> Store::put_blob(std::string_view data) const {
  Digest digest = Digest::of(data);
  if (has_blob(digest)) return digest;
  BlobWriter writer = TRY(blob_writer());
  TRY(writer.write(data));
  return writer.commit(digest);
}

Result<BlobWriter> Store::blob_writer() const {
  BlobWriter writer = TRY(BlobWriter::create(state_->paths.tmp, state_->paths.blobs));
  FileLock lock = TRY(FileLock::acquire(state_->paths.gc_lock, LockMode::kShared));
  writer.hold_lease(lock.release_fd());
  return writer;
}

Result<Digest> Store::ingest_blob_file(const std::string& path,
                                       const std::optional<Digest>& expected, Verify verify) const {
  Lease l = TRY(lease());
  Digest digest;
  if (verify == Verify::kTrustCaller) {
    if (!expected) {
      return fail(ErrorKind::kInternal, "ingest_blob_file: kTrustCaller needs the digest");
    }
    digest = *expected;
    UniqueFd fd = TRY(sys::open(path, O_RDONLY));
    TRY(sys::fsync(fd.get(), path));
  } else {
    UniqueFd fd = TRY(sys::open(path, O_RDONLY));
    Sha256 hasher;
    std::string buf(1 << 20, '\0');
    while (true) {
      size_t n = TRY(sys::read_some(fd.get(), std::span<char>(buf.data(), buf.size()), path));
      if (n == 0) break;
      hasher.update(buf.data(), n);
    }
    TRY(sys::fsync(fd.get(), path));
    digest = Digest::from_hex(hasher.finish_hex());
    if (expected && *expected != digest) {
      return fail(ErrorKind::kCorrupt, "blob digest mismatch: expected " + expected->str() +
                                           ", got " + digest.str() + " (" + path + ")");
    }
  }
  TRY(publish_blob_file(path, state_->paths.blobs, digest));
  return digest;
}

Result<StagedFile> Store::make_staging_file(std::string_view purpose) const {
  return StagedFile::create(state_->paths.tmp, purpose);
}

Result<fs::TempDir> Store::make_staging_dir(std::string_view purpose) const {
  return fs::TempDir::create(state_->paths.tmp, staging_prefix(purpose));
}

bool Store::has_layer(const Digest& diff_id) const { return fs::is_dir(layer_path(diff_id)); }

std::string Store::layer_path(const Digest& diff_id) const {
  return fs::join(state_->paths.layers, diff_id.hex());
}

Status Store::write_gc_record(const std::string& path, const GcRecord& record) const {
  return fs::write_file_atomic(path, record.to_json().dump(2) + "\n");
}

}  // namespace imgbuild::image
