#include "builder/context_mask.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "base/fs.h"
#include "base/sys.h"
#include "base/unique_fd.h"

namespace imgbuild::builder {
namespace {

// Gives the layer's copy of context directory `rel` the mode, owner and times of the context's
// own: in the union it stands in for it.
Status copy_dir_attributes(const BuildContext& context, const std::string& rel,
                           const std::string& out) {
  struct stat st {};
  if (const ContextEntry* self = context.find(rel)) {
    st = self->st;
  } else {
    std::string abs = context.abs_path(rel);
    if (::lstat(abs.c_str(), &st) < 0) return fail_errno("lstat", abs);
  }
  if (::lchown(out.c_str(), st.st_uid, st.st_gid) < 0) return fail_errno("chown", out);
  if (::chmod(out.c_str(), st.st_mode & 07777) < 0) return fail_errno("chmod", out);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, out.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
    return fail_errno("utimensat", out);
  }
  return {};
}

Result<bool> write_mask(const BuildContext& context, const std::string& rel,
                        const std::string& layer_dir) {
  const std::string prefix = rel.empty() ? std::string() : rel + "/";
  // Directories (relative to rel) the whiteouts sit in; "" is the layer's root.
  std::set<std::string> dirs;
  for (auto it = context.excluded().lower_bound(prefix);
       it != context.excluded().end() && it->starts_with(prefix); ++it) {
    std::string below = it->substr(prefix.size());
    size_t slash = below.rfind('/');
    std::string dir = slash == std::string::npos ? std::string() : below.substr(0, slash);
    std::string name = slash == std::string::npos ? below : below.substr(slash + 1);
    std::string out_dir = fs::join(layer_dir, dir);
    TRY(fs::make_dirs(out_dir));
    UniqueFd f = TRY(
        sys::open(fs::join(out_dir, ".wh." + name), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    // The whiteout's directory and every one above it, up to the layer's root ("").
    dirs.insert("");
    for (std::string d = dir; !d.empty();) {
      dirs.insert(d);
      size_t up = d.rfind('/');
      d = up == std::string::npos ? std::string() : d.substr(0, up);
    }
  }
  // Children sort after their parents: in reverse, each directory's times are set after
  // everything inside it was created.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    TRY(copy_dir_attributes(context, it->empty() ? rel : prefix + *it, fs::join(layer_dir, *it)));
  }
  return !dirs.empty();
}

}  // namespace

Result<bool> write_context_mask(const BuildContext& context, std::string_view rel,
                                const std::string& layer_dir) {
  return TRY_CTX(write_mask(context, std::string(rel), layer_dir),
                 "hiding .dockerignore'd files from a bind of the build context");
}

}  // namespace imgbuild::builder
