// Reading directories: one RAII reader that reports readdir() errors instead of ending the listing
// early (readdir returns NULL both at the end and on error; only errno tells them apart), and
// list_dir() on top of it. Every directory listing outside FUSE callbacks goes through here.
#pragma once

#include <dirent.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::fs {

struct DirEntry {
  std::string name;
  unsigned char type = DT_UNKNOWN;  // d_type: DT_DIR, DT_REG, ... or DT_UNKNOWN
};

class DirReader {
 public:
  // Opens path (O_DIRECTORY, no O_NOFOLLOW: the caller names a directory it trusts).
  static Result<DirReader> open(const std::string& path);
  // Reads the directory open as dirfd from its start; dirfd stays the caller's.
  static Result<DirReader> open_fd(int dirfd, std::string_view subject);

  DirReader(DirReader&& other) noexcept
      : dir_(std::exchange(other.dir_, nullptr)), subject_(std::move(other.subject_)) {}
  DirReader& operator=(DirReader&&) = delete;
  DirReader(const DirReader&) = delete;
  DirReader& operator=(const DirReader&) = delete;
  ~DirReader();

  // The next entry other than "." and "..", nullopt at the end, or readdir's error.
  Result<std::optional<DirEntry>> next();
  // The directory's own fd, for *at() calls on its entries; valid while the reader lives.
  int fd() const { return ::dirfd(dir_); }

 private:
  DirReader(DIR* dir, std::string subject) : dir_(dir), subject_(std::move(subject)) {}
  DIR* dir_;
  std::string subject_;
};

enum class MissingDir { kIsEmpty, kIsError };

// The names in a directory (without "." and ".."), in readdir order. A missing directory is an
// empty list or an ENOENT error, as the caller says; every other failure is an error.
Result<std::vector<std::string>> list_dir(const std::string& path, MissingDir missing);

// list_dir() as a value, so code that must fail closed (garbage collection) can be tested with
// a reader that fails on purpose.
using DirLister = std::function<Result<std::vector<std::string>>(const std::string& path)>;

}  // namespace imgbuild::fs
