// ADD's archive handling: recognising a local tar (plain, gzip, bzip2, xz, zstd) and extracting it
// into a directory of the layer being built. The archive is untrusted: it goes through the layer
// extractor (image/layer_extractor.h) with its limits and rules — names cleaned, ".." above the
// destination, writing through or below symlinks and escaping hard links refused — into the
// existing destination, where later entries replace what is there. Modes, numeric owners (when
// root), times and xattrs are kept, as Docker's ADD does. ".wh." names are plain files here too.
// Errors start with "ADD <archive>: " and name the entry.
#pragma once

#include <string>

#include "base/error.h"

namespace imgbuild::builder {

// True when the file is a tar archive, possibly compressed, with at least one entry.
bool looks_like_archive(const std::string& path);

// Extracts archive into dir (which must exist).
Status extract_archive(const std::string& archive, const std::string& dir);

}  // namespace imgbuild::builder
