// Mounting a registry image before it has downloaded (issue 15): `imgbuild mount --lazy REF DIR`
// and `run --lazy`. Only the manifest and config are pulled (the layers are recorded as left on
// the registry, so a later `pull` fetches just those); each eStargz layer then costs its TOC
// (fetched in parallel), from which the layer's tree is made under <root>/lazy/sha256/<blob hex>
// as it is read (image/estargz_skeleton.h): `materialize_entry` makes the entry a lookup names,
// `materialize` a directory's children when imgfs first lists it, `fill` fetches a file's chunks by
// Range, verified, into its placeholder before imgfs opens or copies it up; filled files stay for
// later mounts, and the blob bytes fetched (TOC, chunks) are kept as a partial blob
// (image/partial_blob.h) so a later pull downloads only the rest. Files the TOC lists before its
// prefetch landmark are fetched in the background once the mount serves
// (containers/lazy_prefetch.h). Layers that are not eStargz are fetched whole once the mount
// serves, and the reads that need them wait (containers/lazy_whole_layer.h). Layers the store
// already holds are used as they are.
//
// fill and materialize run in the process serving the mount (a fork of this one for `mount`)
// and open their own registry connection on first use; a failed fetch is EIO for that open only
// (after ~0.5 s: 3 quick tries), and the next open retries.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "fs/mount.h"
#include "image/store.h"
#include "registry-client/client.h"

namespace imgbuild::containers {

struct LazyMount {
  image::Image image;
  std::vector<std::string> lowers;  // layer directories, TOP FIRST (fs::MountOptions::lowers)
  std::vector<bool> lazy;           // parallel to lowers
  std::function<int(size_t layer, const std::string& path)> fill;
  std::function<int(size_t layer, const std::string& dir)> materialize;
  std::function<int(size_t layer, const std::string& dir, const std::string& name)>
      materialize_entry;  // fs::MountOptions::materialize_lazy_entry
  std::function<nlink_t(size_t layer, const std::string& dir)>
      dir_nlink;                // fs::MountOptions::lazy_dir_nlink
  std::function<void()> ready;  // fs::MountOptions::on_ready: starts the prefetch
  int64_t bytes_fetched = 0;    // for the TOCs, before the mount
};

Result<LazyMount> prepare_lazy_mount(const image::Store& store, const std::string& reference,
                                     const registry::ClientOptions& options);

// Sets options' lowers and lazy-layer hooks (fill, materialize, link counts, ready) from lazy.
void use_lazy_mount(const LazyMount& lazy, fs::MountOptions& options);

class TocFetch;  // containers/lazy_toc_fetch.h
// The same for an image whose manifest and config the store already has, fetched from ref's
// repository: no metadata pull (a lazy container's later mounts, containers/launch.h). The TOCs
// `early` has fetched for image's layers, if given, are taken from it.
Result<LazyMount> prepare_lazy_mount(const image::Store& store, const image::Reference& ref,
                                     image::Image image, const registry::ClientOptions& options,
                                     TocFetch* early = nullptr);

}  // namespace imgbuild::containers
