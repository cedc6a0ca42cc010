#include "builder/file_copy.h"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <vector>

#include "base/eintr.h"
#include "base/sys.h"

namespace imgbuild::builder {

Status copy_file_data(const std::string& src, const std::string& dst) {
  UniqueFd in = TRY(sys::open(src, O_RDONLY | O_NOFOLLOW));
  UniqueFd out = TRY(sys::open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
  bool use_range = true;
  std::vector<char> buf;
  while (true) {
    if (use_range) {
      ssize_t n = sys::retry_eintr(
          [&] { return ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0); });
      if (n == 0) break;
      if (n > 0) continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
        return fail_errno("copy_file_range", dst);
      }
      use_range = false;
      buf.resize(1 << 20);
    }
    size_t n = TRY(sys::read_some(in.get(), buf, src));
    if (n == 0) break;
    TRY(sys::write_all(out.get(), std::string_view(buf.data(), n), dst));
  }
  return {};
}

Status copy_metadata(const std::string& src, const std::string& dst, const struct stat& st,
                     Owner owner, mode_t mode) {
  if (::lchown(dst.c_str(), owner.uid, owner.gid) < 0) return fail_errno("lchown", dst);
  if (!S_ISLNK(st.st_mode)) {
    if (::chmod(dst.c_str(), mode) < 0) return fail_errno("chmod", dst);
    std::string names(65536, '\0');
    ssize_t n = ::llistxattr(src.c_str(), names.data(), names.size());
    for (ssize_t pos = 0; n > 0 && pos < n;) {
      std::string name(names.c_str() + pos);
      pos += static_cast<ssize_t>(name.size()) + 1;
      std::string value(65536, '\0');
      ssize_t vn = ::lgetxattr(src.c_str(), name.c_str(), value.data(), value.size());
      if (vn < 0) continue;
      // Best effort, as Docker: a filesystem that refuses an xattr namespace is not fatal.
      (void)::lsetxattr(dst.c_str(), name.c_str(), value.data(), static_cast<size_t>(vn), 0);
    }
  }
  struct timespec times[2] = {st.st_mtim, st.st_mtim};
  if (::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
    return fail_errno("utimensat", dst);
  }
  return {};
}

}  // namespace imgbuild::builder
