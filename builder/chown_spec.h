// --chown for COPY/ADD: "user", "user:group", "uid", "uid:gid" (names and numbers mixed freely),
// with names resolved in the image's own /etc/passwd and /etc/group (read through a LayerView,
// never the host's). A user given without a group uses the user's primary group from passwd, or
// the same number when the user is numeric and not listed, as BuildKit does.
// Errors (kInvalidArgument) name the unknown user or group and the file searched.
#pragma once

#include <sys/types.h>

#include <string_view>

#include "base/error.h"
#include "builder/layer_view.h"

namespace imgbuild::builder {

struct Owner {
  uid_t uid = 0;
  gid_t gid = 0;
  bool operator==(const Owner&) const = default;
};

Result<Owner> resolve_chown(std::string_view spec, const LayerView& image);

}  // namespace imgbuild::builder
