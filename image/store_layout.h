// Internal: the store's paths, creation of the OCI layout, and ownership of staging entries.
//
// Every entry a process creates under tmp/ is named "<pid>.<start time>-<purpose>-XXXXXX", where
// start time is field 22 of /proc/<pid>/stat. An entry is a crash leftover when no process with
// that pid and start time exists any more (the pair survives pid reuse). Only such entries are
// removed; a live process's staging is never touched.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace imgbuild::image {

struct StorePaths {
  std::string root;
  std::string blobs;     // root/blobs/sha256
  std::string layers;    // root/layers/sha256
  std::string tmp;       // root/tmp
  std::string variants;  // root/variants/sha256: compressed variants of layers
  std::string lazy;      // root/lazy/sha256: lazily fetched layers, by blob (issue 15)
  std::string cache_records;
  std::string containers;
  std::string mounts;
  std::string index_json;
  std::string index_lock;
  std::string gc_lock;

  explicit StorePaths(const std::string& root);
};

// "<pid>.<starttime>" of this process (computed once).
const std::string& staging_owner_tag();
// The prefix for a new staging entry: "<owner>-<purpose>-".
std::string staging_prefix(std::string_view purpose);
// True when the entry name carries an owner tag whose process is gone.
bool is_orphaned_staging_name(std::string_view name);

// Creates the directories, oci-layout and an empty index.json when missing (index.json under the
// index lock, so a concurrent first use cannot overwrite a tagged index).
Status init_layout(const StorePaths& paths);
// Removes orphaned entries in tmp/ and stale index.json.tmp-* files (the latter only when the
// index lock is free). Returns how many entries were removed.
Result<size_t> clean_leftovers(const StorePaths& paths);

}  // namespace imgbuild::image
