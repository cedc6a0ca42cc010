#include "base/dir_reader.h"

#include <fcntl.h>
#include <unistd.h>

namespace imgbuild::fs {

Result<DirReader> DirReader::open(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return fail_errno("opendir", path);
  return DirReader(dir, path);
}

Result<DirReader> DirReader::open_fd(int dirfd, std::string_view subject) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return fail_errno("fcntl(F_DUPFD_CLOEXEC)", subject);
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    int err = errno;
    ::close(dup);
    return fail(Error::from_errno("fdopendir", subject, err));
  }
  ::rewinddir(dir);  // the dup shares its offset with dirfd, which may have been read before
  return DirReader(dir, std::string(subject));
}

DirReader::~DirReader() {
  if (dir_ != nullptr) ::closedir(dir_);
}

Result<std::optional<DirEntry>> DirReader::next() {
  for (;;) {
    errno = 0;
    struct dirent* de = ::readdir(dir_);
    if (de == nullptr) {
      if (errno != 0) return fail_errno("readdir", subject_);
      return std::optional<DirEntry>();
    }
    std::string_view name = de->d_name;
    if (name == "." || name == "..") continue;
    return std::optional<DirEntry>(DirEntry{std::string(name), de->d_type});
  }
}

Result<std::vector<std::string>> list_dir(const std::string& path, MissingDir missing) {
  std::vector<std::string> names;
  auto reader = DirReader::open(path);
  if (!reader) {
    if (missing == MissingDir::kIsEmpty && reader.error().errno_value() == ENOENT) return names;
    return fail(reader.error());
  }
  while (auto entry = TRY(reader->next())) names.push_back(std::move(entry->name));
  return names;
}

}  // namespace imgbuild::fs
