// Changes to the upper side of a directory: preparing a name for creation and removing a name,
// with the whiteouts and opaque markers that keep the upper an OCI diff of the lowers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fs/dir_listing.h"
#include "fs/union_fs.h"
#include "fs/whiteout.h"

namespace imgbuild::fs {

int Filesystem::prepare_create(Node& parent, const std::string& name, bool* opaque_needed) {
  *opaque_needed = false;
  if (int err = copy_up(parent)) return err;
  PinnedFd dir_fd = upper_fd(parent);
  if (!dir_fd) return dir_fd.error();
  int dir = dir_fd.get();
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!is_overlay_whiteout(st)) return EEXIST;
    if (::unlinkat(dir, name.c_str(), 0) < 0) return errno;
    *opaque_needed = true;
  }
  if (has_oci_whiteout(dir, name)) {
    if (int err = remove_oci_whiteout(dir, name)) return err;
    *opaque_needed = true;
  }
  return 0;
}

int Filesystem::remove_entry(Node& parent, const std::string& name, const Resolved& r) {
  if (int err = copy_up(parent)) return err;
  PinnedFd dir_fd = upper_fd(parent);
  if (!dir_fd) return dir_fd.error();
  int dir = dir_fd.get();
  if (r.upper) {
    bool is_dir = S_ISDIR(r.st.st_mode);
    if (is_dir) {
      if (int err = clear_markers(dir, name)) return err;
    }
    if (::unlinkat(dir, name.c_str(), is_dir ? AT_REMOVEDIR : 0) < 0) return errno;
    if (is_dir || r.st.st_nlink <= 1) forget_ino(upper_dev_, r.st.st_ino);
  }
  if (r.lower_visible) return make_whiteout(dir, name, style());
  return 0;
}

void Filesystem::set_owner(int parent_upper, const std::string& name, const fuse_ctx* ctx) {
  struct stat pst;
  gid_t gid = ctx->gid;
  if (::fstatat(parent_upper, "", &pst, AT_EMPTY_PATH) == 0 && (pst.st_mode & S_ISGID)) {
    gid = pst.st_gid;
  }
  ::fchownat(parent_upper, name.c_str(), ctx->uid, gid, AT_SYMLINK_NOFOLLOW);
}

}  // namespace imgbuild::fs
