// `build --output` (builder/output_spec.h): what a finished build writes besides the image in the
// store. local and tar: the final stage's files (containers/rootfs_export.h); oci and docker: the
// image as `imgbuild save` writes it, layers compressed as for a push; image/registry: the image
// tagged name= and, with push=true, pushed. Files are written through a temp file and renamed
// (cli/image_common.h's write_file_via), "-" is stdout (never a terminal).
#pragma once

#include <optional>
#include <vector>

#include "base/error.h"
#include "builder/output_spec.h"
#include "image/compression.h"
#include "image/digest.h"
#include "image/store.h"

namespace imgbuild::cli {

struct BuildOutputContext {
  image::Digest manifest_digest;
  int64_t manifest_size = -1;
  image::Compression compression = image::Compression::kGzip;
  std::optional<int64_t> source_date_epoch;
};

// Refuses what cannot work before the build starts: two outputs on stdout, stdout a terminal.
Status check_build_outputs(const std::vector<builder::OutputSpec>& outputs);

// Writes every output; errors name the output ("--output type=oci,dest=x.tar: ...").
Status write_build_outputs(const image::Store& store,
                           const std::vector<builder::OutputSpec>& outputs,
                           const BuildOutputContext& built);

}  // namespace imgbuild::cli
