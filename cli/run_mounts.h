// `run`'s mount flags as Docker parses them: -v/--volume, --mount and --tmpfs, each into one
// MountRequest. Binds and tmpfs mounts go straight into the ProcessSpec; volumes are resolved in
// the store once the container exists (containers/extras.h).
//
//   -v SRC:DST[:OPTS]   SRC absolute: a bind of a host path (which must exist); otherwise a
//                       volume name (created on first use). -v DST alone: an anonymous volume.
//                       OPTS: ro, rw, nocopy, comma-separated.
//   --mount type=bind|volume|tmpfs,source=,target=,readonly  with Docker's aliases (src,
//                       dst/destination, ro) and volume-nocopy, tmpfs-size.
//   --tmpfs PATH[:size=64m,rw,noexec,nosuid,nodev]
//
// Errors are Docker's: "invalid volume specification: 'SPEC'...", "invalid argument \"SPEC\"
// for \"--mount\" flag: unexpected key 'k' in 'k=v'", "invalid mount config for type \"bind\":
// ...".
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace imgbuild::cli {

struct MountRequest {
  enum class Type { kBind, kVolume, kTmpfs };
  Type type = Type::kBind;
  std::string source;  // bind: host path; volume: name ("" for an anonymous volume); tmpfs: ""
  std::string target;  // absolute path inside the container
  bool read_only = false;
  bool no_copy = false;     // volume: no first-use copy of the image's content
  uint64_t tmpfs_size = 0;  // tmpfs: size in bytes, 0 for the kernel's default
};

Result<MountRequest> parse_volume_flag(const std::string& spec);
Result<MountRequest> parse_mount_flag(const std::string& spec);
Result<MountRequest> parse_tmpfs_flag(const std::string& spec);

}  // namespace imgbuild::cli
