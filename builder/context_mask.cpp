#include "builder/context_mask.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "base/fs.h"
#include "base/sys.h"
#include "base/unique_fd.h"

namespace imgbuild::builder {
namespace {

std::string join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  return std::string(a) + "/" + std::string(b);
}

Result<std::vector<std::string>> list_names(const std::string& path) {
  UniqueFd fd = TRY(sys::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) return fail_errno("fdopendir", path);
  (void)fd.release();
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return fail(Error::from_errno("readdir", path, err));
  return names;
}

// Hides the excluded entries of context directory `rel` in layer directory `out` (created on
// demand when create_out, once something below needs it) and gives `out` the attributes of the
// context directory when it hid anything.
Result<bool> mask_dir(const BuildContext& context, const std::string& rel, const std::string& out,
                      bool create_out) {
  std::string abs = context.abs_path(rel);
  bool any = false;
  auto ensure_out = [&]() -> Status {
    if (create_out && !fs::is_dir(out)) TRY(fs::make_dirs(out));
    return {};
  };
  for (const std::string& name : TRY(list_names(abs))) {
    std::string child = join(rel, name);
    const ContextEntry* entry = context.find(child);
    if (entry == nullptr) {
      TRY(ensure_out());
      std::string wh = fs::join(out, ".wh." + name);
      UniqueFd f = TRY(sys::open(wh, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      any = true;
      continue;
    }
    if (S_ISDIR(entry->st.st_mode) && TRY(mask_dir(context, child, fs::join(out, name), true))) {
      any = true;
    }
  }
  if (any) {
    // The layer's copy of the directory (the layer's root too) stands in for the context's in
    // the union: same mode, owner and times (times last, after the entries above were created).
    const ContextEntry* self = context.find(rel);
    struct stat st {};
    if (self != nullptr) {
      st = self->st;
    } else if (::lstat(abs.c_str(), &st) < 0) {
      return fail_errno("lstat", abs);
    }
    if (::lchown(out.c_str(), st.st_uid, st.st_gid) < 0) return fail_errno("chown", out);
    if (::chmod(out.c_str(), st.st_mode & 07777) < 0) return fail_errno("chmod", out);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(AT_FDCWD, out.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
      return fail_errno("utimensat", out);
    }
  }
  return any;
}

}  // namespace

Result<bool> write_context_mask(const BuildContext& context, std::string_view rel,
                                const std::string& layer_dir) {
  return TRY_CTX(mask_dir(context, std::string(rel), layer_dir, false),
                 "hiding .dockerignore'd files from a bind of the build context");
}

}  // namespace imgbuild::builder
