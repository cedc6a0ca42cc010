// Copying one file's data and metadata into a layer directory. Helpers for COPY/ADD.
// Errors name the path that failed (kIo).
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/error.h"
#include "builder/chown_spec.h"

namespace imgbuild::builder {

// Creates dst (must not exist) with src's bytes (copy_file_range, falling back to read/write).
Status copy_file_data(const std::string& src, const std::string& dst);

// Applies owner, mode (after chown, which clears set-id bits), src's xattrs and st's mtime to dst
// (not following symlinks; symlinks get owner and times only).
Status copy_metadata(const std::string& src, const std::string& dst, const struct stat& st,
                     Owner owner, mode_t mode);

}  // namespace imgbuild::builder
