// A layer of a lazy mount (containers/lazy_mount.h) that is not eStargz, so it cannot be read a
// file at a time: it is fetched whole in the background, once the mount serves, instead of before
// the mount. Until then its tree, <store>/lazy/sha256/<blob hex>, is an empty directory marked
// kLazyDirXattr (image/estargz_skeleton.h); imgfs asks for the tree's directories before it reads
// them (fs::MountOptions::materialize_lazy_dir), and ensure() makes that read wait until the blob
// is in the store's blobs/ (fetched and verified as a pull fetches it) and extracted into the tree
// (image/layer_extractor.h, checked against the layer's diff ID). A failed fetch or extraction
// fails the waiting read (the caller makes it EIO) and is tried again by the next one.
//
// Crash-safe and shared between processes as the eStargz trees are: the directory is made marked
// (staged and renamed into place), the mark is dropped only once the extracted tree is synced, a
// marked tree with entries (an interrupted extraction) is emptied and extracted again, and
// processes serialise on flock(2) of the tree's root. A later `pull` finds the blob in the store
// and only unpacks it.
#pragma once

#include <mutex>
#include <string>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/digest.h"
#include "image/store.h"
#include "registry-client/client.h"

namespace imgbuild::containers {

class WholeLayer {
 public:
  WholeLayer(image::Store store, std::string registry, std::string repository,
             registry::ClientOptions options, image::Descriptor blob, image::Digest diff_id,
             std::string dir)
      : store_(std::move(store)),
        registry_(std::move(registry)),
        repository_(std::move(repository)),
        options_(std::move(options)),
        blob_(std::move(blob)),
        diff_id_(std::move(diff_id)),
        dir_(std::move(dir)) {}

  // Makes the layer's tree `dir`, empty and marked, unless it exists already (complete, or marked
  // from an earlier mount).
  static Status make_placeholder(const std::string& dir);

  // Returns once the tree is complete: at once when it is, else after fetching and extracting the
  // layer (one caller does it; the others wait for it).
  Status ensure();

  const std::string& dir() const { return dir_; }

 private:
  Status fill(int root_fd);

  image::Store store_;
  std::string registry_;
  std::string repository_;
  registry::ClientOptions options_;
  image::Descriptor blob_;
  image::Digest diff_id_;
  std::string dir_;
  std::mutex mu_;
  bool done_ = false;
};

}  // namespace imgbuild::containers
