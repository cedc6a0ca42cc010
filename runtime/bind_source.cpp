#include "runtime/bind_source.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cstdlib>

#include "base/sys.h"
#include "runtime/safe_path.h"

namespace imgbuild::runtime {
namespace {

Result<UniqueFd> open_source(const std::string& root, const std::string& source) {
  auto fd = root.empty() ? sys::open(source, O_PATH) : [&]() -> Result<UniqueFd> {
    UniqueFd rootfd = TRY(sys::open(root, O_PATH | O_DIRECTORY));
    return open_in_root(rootfd.get(), clean_relative(source), O_PATH);
  }();
  if (!fd) return fail(fd.error().with_context("bind source " + source));
  return fd;
}

}  // namespace

Result<BindTree> open_bind_tree(const std::string& root, const std::string& source,
                                bool read_only) {
  UniqueFd fd = TRY(open_source(root, source));
  BindTree out;
  struct stat st = TRY(sys::fstat(fd.get(), source));
  out.is_dir = S_ISDIR(st.st_mode);
  long tree = ::syscall(SYS_open_tree, fd.get(), "",
                        AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return fail_errno("open_tree", source);
  out.tree.reset(static_cast<int>(tree));
  if (read_only) {
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, out.tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                  sizeof attr) < 0) {
      return fail_errno("mount_setattr ro", source);
    }
  }
  return out;
}

Result<std::string> resolve_in_root(const std::string& root, const std::string& rel) {
  char* real = ::realpath(root.c_str(), nullptr);
  if (real == nullptr) return fail_errno("realpath", root);
  std::string root_real(real);
  std::free(real);
  UniqueFd rootfd = TRY(sys::open(root_real, O_PATH | O_DIRECTORY));
  UniqueFd fd = TRY(open_in_root(rootfd.get(), clean_relative(rel), O_PATH));
  std::string link = TRY(sys::readlink_at(AT_FDCWD, "/proc/self/fd/" + std::to_string(fd.get())));
  bool inside = link == root_real || (link.starts_with(root_real) &&
                                      (root_real == "/" || link[root_real.size()] == '/'));
  if (!inside) {
    return fail(ErrorKind::kRuntime, rel + " resolves to " + link + ", outside " + root_real);
  }
  return link;
}

}  // namespace imgbuild::runtime
