// COPY and ADD executed straight into a layer directory, no container: Docker/BuildKit rules for
// sources and destinations.
//
// - Sources are relative to the source tree (context or another stage); "../x" that leaves the
//   context is an error; wildcards (Go filepath.Match per component) must match something.
// - A source directory copies its contents; a file goes to DEST/basename when DEST ends in '/',
//   names an existing directory, or when several sources are given (then DEST must be a
//   directory and end in '/'); otherwise DEST is the file's new name.
// - Relative destinations are under WORKDIR. Symlinks in the destination path are followed
//   inside the image (Debian's /bin -> usr/bin); symlinks among the copied entries are copied as
//   symlinks; a symlink named as a source is followed.
// - Missing parent directories are created 0755 (owned by --chown's owner); parents that exist
//   in the image are reproduced in the layer with their existing metadata, so the layer never
//   changes them. A destination directory that did not exist takes the source directory's
//   metadata, as BuildKit does.
// - Owners: --chown if given; else the source's uid/gid for image sources and 0:0 for the context.
//   --chmod replaces permission bits of copied files and directories. Times and xattrs are kept.
//   Hard links within one COPY stay hard links.
// - ADD extracts local tar archives (plain, gzip, bzip2, xz, zstd) into the destination directory.
//
// The layer directory ends up a valid OCI layer diff over the image (no whiteouts are needed:
// COPY only adds or replaces). Errors (kNotFound, kInvalidArgument, kIo) name the source or
// destination as the user wrote it. Not thread-safe per layer directory.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "builder/chown_spec.h"
#include "builder/layer_view.h"
#include "builder/source_tree.h"

namespace imgbuild::builder {

struct CopyOptions {
  std::vector<std::string> sources;  // as written, after word expansion
  std::string dest;                  // as written, after word expansion
  std::string workdir = "/";         // the stage's WORKDIR
  std::optional<Owner> chown;
  std::optional<mode_t> chmod;
  bool parents = false;               // --parents: keep source paths (after a "/./" pivot)
  std::vector<std::string> excludes;  // --exclude patterns, relative to each source
  bool extract_archives = false;      // ADD
};

// A source selection: the matched paths in the tree, in order. Used for cache keys before copying.
struct SelectedSource {
  std::string written;   // the source as written
  std::string path;      // matched path in the tree (cleaned, relative)
  std::string rel_dest;  // with --parents: the path to reproduce under DEST
};

Result<std::vector<SelectedSource>> select_sources(const SourceTree& tree,
                                                   const CopyOptions& options);

// Performs the copy into layer_dir, consulting `image` (the stage's current filesystem) for
// destination symlinks, existing directories and parent metadata.
Status copy_into_layer(const SourceTree& tree, const CopyOptions& options, const LayerView& image,
                       const std::string& layer_dir);

// Creates image_path (and missing parents) in layer_dir: directories that exist in `image` are
// reproduced with their metadata; new ones are 0755 owned by created_owner (default 0:0).
Status ensure_layer_dir(const LayerView& image, const std::string& layer_dir,
                        const std::string& image_path, std::optional<Owner> created_owner);

// Parses "--chmod" octal ("755", "0644"); kInvalidArgument otherwise.
Result<mode_t> parse_chmod(std::string_view text);

}  // namespace imgbuild::builder
