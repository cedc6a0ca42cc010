// Small filesystem helpers shared by every module. All fd-relative where it matters; none follow
// symlinks while deleting.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"

namespace imgbuild::fs {

// Reads a whole (small) file.
Result<std::string> read_file(const std::string& path);
// Whether a write survives a crash. kHint: readers still see the old or the new content whole
// (rename), but after a power loss the file may be gone or empty; for records that are checked
// when read and only cost a recomputation when lost (build cache records, remote blob hints).
enum class Durability { kDurable, kHint };

// Writes data to path atomically: temp file in the same directory, fsync, rename, fsync dir
// (without the fsyncs for Durability::kHint).
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644,
                         Durability durability = Durability::kDurable);
// mkdir -p; existing directories are fine.
Status make_dirs(const std::string& path, mode_t mode = 0755);
// rm -rf without following symlinks; a missing path is not an error. Makes read-only directories
// writable as needed so trees extracted from hostile layers can always be removed.
Status remove_tree(const std::string& path);
// Removes everything below the directory open as dirfd, keeping the directory itself.
Status remove_tree_contents(int dirfd, std::string_view subject);
bool exists(const std::string& path);
bool is_dir(const std::string& path);
// fsync of a directory, to make a rename inside it durable.
Status sync_dir(const std::string& path);
// Joins with a single '/'.
std::string join(std::string_view a, std::string_view b);
// Absolute, lexically cleaned path ("a/../b" -> "/cwd/b").
std::string absolute(const std::string& path);

// A directory created under parent (mkdtemp) and removed with everything in it on destruction,
// unless released.
class TempDir {
 public:
  static Result<TempDir> create(const std::string& parent = "/tmp",
                                std::string_view prefix = "imgbuild-");
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  std::string release() { return std::exchange(path_, std::string()); }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace imgbuild::fs
