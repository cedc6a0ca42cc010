// Making layer blobs. write_layer_from_dir() tars a directory deterministically and compresses it;
// write_layer_from_tar() re-compresses an existing tar stream. Both run one pass in bounded
// memory: tar -> sha256 (diff_id) -> compress -> sha256 (digest) -> out_fd.
//
// The tar (see tar_writer.h) is reproducible: entries in name order (depth first, each directory's
// entries sorted bytewise, the directory before its contents; the root itself is not an entry),
// PAX headers only where ustar cannot hold a field, numeric uid/gid with empty user/group names,
// only mtime (whole seconds, clamped to source_date_epoch when set), and a fixed gzip header.
// Hard-linked files are written once, under the first name in that order; later names are tar
// hard links to it. Symlinks are stored, never followed; sockets are skipped (tar cannot hold
// them). xattrs are kept except system.* (ACLs) and security.selinux (host labels), as Docker
// does. Holes in sparse files are read as zeros without reading them from disk.
//
// The directory is a layer in OCI form: ".wh." markers are plain files and written as they are.
// Thread-safe as long as callers use different fds. out_fd is written from its current offset and
// is not closed. Errors: kIo naming the path relative to `dir` ("reading etc/shadow: ..."), or the
// compressor's errors; on error out_fd holds partial output the caller must discard.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "image/compression.h"
#include "image/digest.h"

namespace imgbuild::image {

struct LayerWriteOptions {
  Compression compression = Compression::kGzip;
  std::optional<int64_t> source_date_epoch;
  int level = -1;   // -1: gzip 6, zstd 3
  int threads = 0;  // compressor threads; 0: one per online CPU (output does not depend on it)
};

struct LayerBlob {
  Digest digest;   // of the compressed blob as written to out_fd
  Digest diff_id;  // of the uncompressed tar
  int64_t size = 0;
  std::string media_type;
};

Result<LayerBlob> write_layer_from_dir(const std::string& dir, int out_fd,
                                       const LayerWriteOptions& options = {});

// Input may be plain, gzip, zstd, xz or bzip2 (detected). diff_id is the hash of the plain tar as
// read; the tar itself is not validated here (extraction does that). source_date_epoch is ignored.
Result<LayerBlob> write_layer_from_tar(int tar_fd, int out_fd,
                                       const LayerWriteOptions& options = {});

}  // namespace imgbuild::image
