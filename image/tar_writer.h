// TarWriter: formats a tar stream (ustar headers, plus a PAX extended header when a field does
// not fit ustar or there are xattrs) and hands the bytes to a sink in chunks of about 1 MiB.
// Output is a pure function of the entries written: no user/group names, no atime/ctime, PAX
// records sorted by key, fixed PAX header names. Used by the layer writer; internal to image/.
//
// Not thread-safe. Errors: whatever the sink returns; kInvalidArgument when an entry cannot be
// represented (data longer or shorter than the header's size).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace imgbuild::image {

struct TarEntry {
  enum class Type : char {
    kRegular = '0',
    kHardLink = '1',
    kSymlink = '2',
    kChar = '3',
    kBlock = '4',
    kDirectory = '5',
    kFifo = '6',
  };
  std::string name;  // relative, no leading "./"; directories get their trailing '/' added here
  Type type = Type::kRegular;
  uint32_t mode = 0;  // permission bits including setuid/setgid/sticky
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;      // regular files only
  int64_t mtime = 0;     // seconds since the epoch
  std::string linkname;  // symlink target or hard link target (a name in the same tar)
  uint32_t devmajor = 0;
  uint32_t devminor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // sorted by name
};

class TarWriter {
 public:
  using Sink = std::function<Status(std::string_view)>;
  explicit TarWriter(Sink sink);

  // Writes the header(s); a regular file's size bytes must follow through write_data().
  Status add(const TarEntry& entry);
  Status write_data(std::string_view data);
  // Writes the end-of-archive marker and flushes.
  Status finish();

 private:
  Status append(std::string_view bytes);
  Status pad_entry();

  Sink sink_;
  std::string buf_;
  int64_t remaining_ = 0;  // data bytes the current entry still expects
  int64_t entry_size_ = 0;
  std::string current_;  // name of the current entry, for errors
};

}  // namespace imgbuild::image
