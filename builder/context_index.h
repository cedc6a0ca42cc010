// ContextIndex: a persistent cache of content hashes of build-context files, keyed by path and
// by the file's identity and change markers (inode, size, mtime, ctime). A file whose stat matches
// its record is not read again; anything else is re-hashed. This makes hashing a large, unchanged
// context on a rebuild cost one lstat per file.
//
// On-disk format (one file per context directory, under the store's cache/context/): a header line
// "imgbuild-context-index 1\n" followed by records, each six NUL-terminated fields:
//   path, inode, size, mtime_ns, ctime_ns, sha256 hex
// A file that is missing, unreadable or malformed is treated as empty (it is only a cache).
// Saving writes a temp file and renames it, so a crash leaves the old index or the new one.
//
// Not thread-safe: one index per build; the engine serialises lookups.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <string>

#include "base/error.h"

namespace imgbuild::builder {

class ContextIndex {
 public:
  // Loads the index stored at `file` (empty path: an in-memory index that is never saved).
  static ContextIndex load(std::string file);

  // The sha256 hex of the regular file at `abs_path` (context-relative `rel_path`), reading it
  // only when `st` differs from the recorded identity.
  Result<std::string> file_hash(const std::string& rel_path, const std::string& abs_path,
                                const struct stat& st);

  // Writes the index back when it changed. Records not looked up during this build are dropped,
  // so deleted files do not accumulate.
  Status save();

  // Number of files actually read during this build (for tests and --progress=plain).
  size_t files_read() const { return files_read_; }

 private:
  struct Record {
    uint64_t ino = 0;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    std::string hash;
    bool used = false;
  };
  std::string file_;
  std::map<std::string, Record> records_;
  size_t files_read_ = 0;
  bool dirty_ = false;
};

// sha256 hex of a file's contents, streamed.
Result<std::string> hash_file_contents(const std::string& path);

}  // namespace imgbuild::builder
