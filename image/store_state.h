// Internal: what a Store handle shares between its copies, and index.json helpers used by the
// store_*.cpp files. Not for use outside the store.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/dir_reader.h"
#include "image/file_lock.h"
#include "image/store.h"
#include "image/store_layout.h"

namespace imgbuild::image {

struct Store::State {
  StorePaths paths;
  explicit State(const std::string& root) : paths(root) {}
};

// Reads and parses root/index.json (no lock: it is always replaced atomically).
Result<std::vector<IndexEntry>> read_index_entries(const StorePaths& paths);
// Serialises entries (tagged first, sorted by reference, then dangling by digest) and replaces
// index.json atomically. Caller holds the index lock.
Status write_index_entries(const StorePaths& paths, std::vector<IndexEntry> entries);
// Garbage collection proper; the caller holds gc.lock exclusively. It fails closed: any error
// reading what keeps things alive (a roots directory, a record, a manifest or config that is
// present) aborts it before anything is deleted. `list` reads directories (tests inject faults).
Result<PruneReport> prune_locked(const Store& store, const StorePaths& paths, PruneMode mode);
Result<PruneReport> prune_locked(const Store& store, const StorePaths& paths, PruneMode mode,
                                 const fs::DirLister& list);
// GC of variant records: adds the blobs of the variants of live_layers to live_blobs and removes
// the records of every other layer (store_variants.cpp).
Status sweep_layer_variants(const StorePaths& paths, const std::set<Digest>& live_layers,
                            std::set<Digest>& live_blobs);
// The annotations a tagged index entry carries for ref.
void annotate_ref(Descriptor& d, const Reference& ref);

}  // namespace imgbuild::image
