// ADD's archive handling: recognising a local tar (plain, gzip, bzip2, xz, zstd) and extracting it
// into a layer directory. The archive is untrusted: absolute names are made relative, ".." that
// leaves the destination and writing through symlinks are refused (kInvalidArgument naming the
// entry). Modes, owners, times and xattrs are kept, as Docker's ADD does.
#pragma once

#include <string>

#include "base/error.h"

namespace imgbuild::builder {

// True when the file is a readable tar archive, possibly compressed.
bool looks_like_archive(const std::string& path);

// Extracts archive into dir (which must exist).
Status extract_archive(const std::string& archive, const std::string& dir);

}  // namespace imgbuild::builder
