// Resolving and creating paths inside a container root without ever leaving it: every lookup is
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to an fd of the root, so ".." and
// symlinks (absolute or relative) are clamped to the root as if it were "/".
//
// MountStubs creates missing mount targets (and their missing parent directories) before a
// container starts and removes them again afterwards if they are still empty, and gives the
// directories it created them in their times back (unless the container changed those
// directories itself), so that the root (an imgfs upper, in builds) keeps no trace of the
// runtime: a RUN step that changes nothing leaves an empty layer, as with BuildKit. Not
// thread-safe; one per container.
#pragma once

#include <time.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace imgbuild::runtime {

// "/a/./b//c/../d" -> "a/b/d"; "/" -> "". Lexical only; ".." above the top is dropped.
std::string clean_relative(const std::string& path);

// openat2(rootfd, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); rel "" opens the root.
Result<UniqueFd> open_in_root(int rootfd, const std::string& rel, int flags, mode_t mode = 0);

// Reads a small regular file inside the root; missing file -> kNotFound. Larger than max_bytes
// or not a regular file -> kInvalidArgument.
Result<std::string> read_file_in_root(int rootfd, const std::string& rel, size_t max_bytes);

enum class TargetKind { kDirectory, kFile };

class MountStubs {
 public:
  // rootfd: O_PATH fd of the root; root_real: its canonical host path (to map a resolved fd back
  // to a path inside the root).
  MountStubs(int rootfd, std::string root_real)
      : rootfd_(rootfd), root_real_(std::move(root_real)) {}
  // Makes sure path (absolute inside the root) exists, creating it (kind) and missing parents.
  // A dangling symlink on the way is followed inside the root and its target created. Returns the
  // resolved path relative to the root. Created entries are recorded.
  Result<std::string> ensure(const std::string& path, TargetKind kind);
  // mkdir -p that records nothing (the working directory stays, as in Docker).
  Status make_dirs(const std::string& path);
  // Removes the recorded entries, newest first, if they are still empty, then restores the times
  // of the directories they were created in where nothing else changed them. Best effort.
  void remove_all(int rootfd);
  const std::vector<std::string>& created() const { return created_; }

 private:
  Result<std::string> ensure_impl(const std::string& rel, TargetKind kind, bool record, int depth);
  Result<std::string> path_of(int fd) const;
  // A directory this created entries in: its times before, and its mtime after the last creation.
  struct TouchedDir {
    std::string rel;
    struct timespec atime, mtime, mtime_after;
  };
  void note_created_in(int parent_fd, const std::string& parent_rel, bool before);
  int rootfd_;
  std::string root_real_;
  std::vector<std::string> created_;
  std::vector<TouchedDir> touched_;
};

}  // namespace imgbuild::runtime
