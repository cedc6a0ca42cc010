// Command-line syntax of the standalone `imgfs` binary, the same as fuse-overlayfs's:
//
//   imgfs [-f] [-d] [SOURCE] MOUNTPOINT -o lowerdir=A:B[,upperdir=U,workdir=W][,OPTION...]
//
// lowerdir lists the read-only layers top first, separated by ':' (a literal ':' or ',' is written
// "\:" / "\,"). upperdir makes the mount writable; workdir is accepted for compatibility and must
// exist when given (imgfs does not need it). imgfs options: whiteout=oci|overlay (the style written
// into the upper; default oci), fsname=NAME, timeout=SECONDS (upper entries), threads=N,
// nopassthrough, nokillpriv, noacl (the kernel neither caches nor checks POSIX ACLs: MountOptions),
// nouring (no FUSE over io_uring even where the kernel offers it; `uring`, the default, uses it
// there), debug_stats (print the requests served by opcode to stderr at exit; with -f). The
// generic options mount(8) and mount.fuse3 pass (rw, ro, lazytime, noatime, dev, suid, exec,
// allow_other, default_permissions, x-*, ...) are accepted and ignored, so `mount -t fuse.imgfs`
// works. Anything else is an error naming the option. Pure function: no I/O.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "fs/mount.h"

namespace imgbuild::fs {

struct ImgfsArgs {
  std::string source;  // informational (shown in /proc/mounts as the fsname when set)
  std::string mountpoint;
  std::string workdir;
  MountOptions options;
  bool foreground = false;
  bool debug = false;
  bool debug_stats = false;
};

// argv without the program name.
Result<ImgfsArgs> parse_imgfs_args(const std::vector<std::string>& args);

// Splits a comma-separated option string, honouring "\," escapes (kept for the value parser).
std::vector<std::string> split_mount_options(const std::string& opts);

}  // namespace imgbuild::fs
