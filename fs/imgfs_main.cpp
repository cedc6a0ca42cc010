// imgfs: the standalone union filesystem, a drop-in for fuse-overlayfs (syntax: fs/mount_args.h).
// Daemonises once the mount is ready (unless -f); works as `mount -t fuse.imgfs` through
// mount.fuse3 when installed in PATH as `imgfs`.
#include <cstdio>
#include <string>
#include <vector>

#include "base/fs.h"
#include "fs/mount_args.h"
#include "fs/server.h"

int main(int argc, char** argv) {
  using namespace imgbuild;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args) {
    if (a == "-h" || a == "--help") {
      std::puts(
          "usage: imgfs [-f] [SOURCE] MOUNTPOINT -o lowerdir=A:B[,upperdir=U,workdir=W]"
          "[,whiteout=oci|overlay]");
      return 0;
    }
    if (a == "-V" || a == "--version") {
      std::puts("imgfs 0.1.0");
      return 0;
    }
  }
  auto parsed = fs::parse_imgfs_args(args);
  if (!parsed) {
    std::fprintf(stderr, "imgfs: %s\n", parsed.error().message().c_str());
    return 2;
  }
  if (!parsed->workdir.empty() && !fs::is_dir(parsed->workdir)) {
    std::fprintf(stderr, "imgfs: workdir %s is not a directory\n", parsed->workdir.c_str());
    return 1;
  }
  if (parsed->foreground) {
    auto st =
        fs::serve(parsed->mountpoint, parsed->options,
                  parsed->debug_stats ? fs::ExitReport::kRequestCounts : fs::ExitReport::kNone);
    if (!st) {
      std::fprintf(stderr, "imgfs: %s\n", st.error().message().c_str());
      return 1;
    }
    return 0;
  }
  auto pid = fs::serve_in_background(parsed->mountpoint, parsed->options);
  if (!pid) {
    std::fprintf(stderr, "imgfs: %s\n", pid.error().message().c_str());
    return 1;
  }
  return 0;
}
