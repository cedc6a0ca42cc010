// Store: the unpacked copy of each layer (layers/sha256/<diff id hex>).

#include "base/fs.h"
#include "base/log.h"
#include "base/parallel.h"
#include "base/sys.h"
#include "image/layer_extractor.h"
#include "image/store.h"
#include "image/store_state.h"

namespace imgbuild::image {
namespace {

// Renames staged into place unless the layer is already there. RENAME_NOREPLACE matters: a plain
// rename would silently replace an existing *empty* directory that a mount may be using.
Status place_layer_dir(const std::string& staged, const std::string& target,
                       const std::string& layers_dir) {
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) < 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      // Another process (or thread) won the race; its copy has the same diff ID.
      return fs::remove_tree(staged);
    }
    return fail_errno("renameat2", staged + " -> " + target);
  }
  return fs::sync_dir(layers_dir);
}

}  // namespace

Result<std::string> Store::unpack_layer(const Descriptor& blob, const Digest& diff_id) const {
  std::string target = layer_path(diff_id);
  if (fs::is_dir(target)) return target;
  std::string context = "unpacking layer " + blob.digest.str();
  Lease l = TRY(lease());
  UniqueFd fd = TRY_CTX(open_blob(blob.digest), context);
  fs::TempDir staging = TRY_CTX(make_staging_dir("unpack"), context);
  std::string staged = fs::join(staging.path(), "layer");
  ExtractedLayer extracted = TRY_CTX(extract_layer(fd.get(), staged), context);
  if (extracted.diff_id != diff_id) {
    return fail(ErrorKind::kCorrupt, context + ": diff ID mismatch: the image config says " +
                                         diff_id.str() + ", the tar hashes to " +
                                         extracted.diff_id.str());
  }
  TRY_CTX(place_layer_dir(staged, target, state_->paths.layers), context);
  return target;
}

Result<std::string> Store::adopt_layer_dir(const std::string& staged_dir,
                                           const Digest& diff_id) const {
  std::string target = layer_path(diff_id);
  std::string context = "adopting layer " + diff_id.str();
  std::string abs = fs::absolute(staged_dir);
  if (!abs.starts_with(state_->paths.tmp + "/")) {
    return fail(ErrorKind::kInvalidArgument,
                context + ": " + staged_dir + " is not under " + state_->paths.tmp);
  }
  if (!fs::is_dir(abs)) {
    return fail(ErrorKind::kNotFound, context + ": " + staged_dir + " is not a directory");
  }
  TRY_CTX(place_layer_dir(abs, target, state_->paths.layers), context);
  return target;
}

Result<std::vector<std::string>> Store::prepare_layers(const Manifest& manifest,
                                                       const ImageConfig& config) const {
  if (manifest.layers.size() != config.diff_ids.size()) {
    return fail(ErrorKind::kCorrupt, "image has " + std::to_string(manifest.layers.size()) +
                                         " layers but its config lists " +
                                         std::to_string(config.diff_ids.size()) + " diff IDs");
  }
  std::vector<std::string> dirs;
  std::vector<size_t> missing;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    dirs.push_back(layer_path(config.diff_ids[i]));
    if (!fs::is_dir(dirs.back())) missing.push_back(i);
  }
  if (missing.empty()) return dirs;
  // The same diff ID may appear twice in one image; extract it once.
  std::vector<size_t> work;
  for (size_t i : missing) {
    bool dup = false;
    for (size_t j : work) dup = dup || config.diff_ids[j] == config.diff_ids[i];
    if (!dup) work.push_back(i);
  }
  TRY(for_each_parallel(work.size(), 2, [&](size_t k) -> Status {
    size_t i = work[k];
    TRY(unpack_layer(manifest.layers[i], config.diff_ids[i]));
    return {};
  }));
  return dirs;
}

Result<std::vector<std::string>> Store::prepare_layers(const Image& image) const {
  return prepare_layers(image.manifest, image.config);
}

}  // namespace imgbuild::image
