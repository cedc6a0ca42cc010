#include "containers/lazy_whole_layer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"
#include "base/unique_fd.h"
#include "image/estargz_skeleton.h"
#include "image/layer_extractor.h"
#include "registry-client/blob_transfer.h"

namespace imgbuild::containers {
namespace {

const std::string kMark(image::kLazyDirXattr);

bool is_marked(int fd) { return ::fgetxattr(fd, kMark.c_str(), nullptr, 0) >= 0; }

}  // namespace

Status WholeLayer::make_placeholder(const std::string& dir) {
  if (fs::exists(dir)) return {};
  std::string staging = dir + ".tmp-" + std::to_string(::getpid());
  (void)fs::remove_tree(staging);
  if (::mkdir(staging.c_str(), 0755) < 0) return fail_errno("mkdir", staging);
  if (::setxattr(staging.c_str(), kMark.c_str(), "", 0, 0) < 0 ||
      ::rename(staging.c_str(), dir.c_str()) < 0) {
    int err = errno;
    (void)fs::remove_tree(staging);
    if (err == EEXIST || err == ENOTEMPTY) return {};  // another process made it meanwhile
    return fail(Error(ErrorKind::kIo, "making the lazy layer directory " + dir, err));
  }
  return {};
}

Status WholeLayer::ensure() {
  std::lock_guard lock(mu_);
  if (done_) return {};
  UniqueFd root(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return fail_errno("open", dir_);
  if (is_marked(root.get())) {
    if (::flock(root.get(), LOCK_EX) < 0) return fail_errno("flock", dir_);
    struct Unlock {
      int fd;
      ~Unlock() { ::flock(fd, LOCK_UN); }
    } unlock{root.get()};
    // Another process may have completed it while this one waited for the lock.
    if (is_marked(root.get())) TRY_CTX(fill(root.get()), "layer " + blob_.digest.str());
  }
  done_ = true;
  return {};
}

Status WholeLayer::fill(int root_fd) {
  log::debug("lazy: fetching layer " + blob_.digest.short_hex() + " whole (not eStargz)");
  if (!store_.has_blob(blob_.digest)) {
    auto connection =
        TRY(registry::Connection::open(registry_, repository_, registry::Access::kPull, options_));
    TRY(registry::fetch_blob(connection->session(), store_, blob_, nullptr, nullptr));
  }
  // An interrupted extraction left entries: start again from an empty directory.
  TRY(fs::remove_tree_contents(root_fd, dir_));
  std::string path = store_.blob_path(blob_.digest);
  UniqueFd blob(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!blob) return fail_errno("open", path);
  image::ExtractOptions options;
  options.target = image::ExtractTarget::kExisting;
  auto extracted = image::extract_layer(blob.get(), dir_, options);
  if (extracted && extracted->diff_id != diff_id_) {
    extracted = fail(ErrorKind::kCorrupt, "its files have diff ID " + extracted->diff_id.str() +
                                              ", the image's config says " + diff_id_.str());
  }
  if (!extracted) {
    (void)fs::remove_tree_contents(root_fd, dir_);
    return fail(extracted.error());
  }
  // The files reach the disk before the mark goes: a crash leaves the tree marked, to be redone.
  if (::syncfs(root_fd) < 0) return fail_errno("syncfs", dir_);
  if (::fremovexattr(root_fd, kMark.c_str()) < 0) return fail_errno("fremovexattr", dir_);
  log::debug("lazy: layer " + blob_.digest.short_hex() + " extracted");
  return {};
}

}  // namespace imgbuild::containers
