// `build --output` / `-o` specifications, as BuildKit reads them: a CSV of KEY=VALUE pairs
// ("type=local,dest=out"), or the short forms "DIR" (type=local,dest=DIR) and "-" (type=tar to
// stdout). Types:
//   local   the final stage's files written into dest (a directory; created when missing)
//   tar     the same files as one tar, to dest (a file, or "-" for stdout)
//   oci     the image as an OCI layout archive (what `imgbuild save` writes), to dest or "-"
//   docker  the image as a Docker archive (`docker load` reads it), to dest or "-"
//   image / registry   the image itself; push=true (implied by registry) pushes it to name=REF
//                      (several names separated by commas inside quotes are not supported)
// Unknown types and keys are errors naming them, as BuildKit's are ("unsupported output type").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::builder {

struct OutputSpec {
  enum class Type { kLocal, kTar, kOci, kDocker, kImage };
  Type type = Type::kLocal;
  std::string dest;  // kLocal: a directory; kTar/kOci/kDocker: a file or "-"
  std::string name;  // kImage: the reference to tag (and push)
  bool push = false;
};

Result<OutputSpec> parse_output_spec(std::string_view text);

}  // namespace imgbuild::builder
