// Bind-mount sources, opened by the parent before the container is cloned.
//
// A source is either a host path, followed as the host sees it (`run -v /srv:/data`: the user
// chose it), or a path inside a root (a build stage's or image's imgfs mount, the build context):
// then every component, symlinks and ".." included, is resolved with openat2(RESOLVE_IN_ROOT), so
// a symlink in the image or context ("hostroot -> /") stays inside that root as BuildKit's
// scoped resolution does. Either way the result is a detached mount (open_tree with
// OPEN_TREE_CLONE on the resolved fd, never a second lookup by path) that the child attaches with
// move_mount: the child's mount namespace is a copy in which nothing is looked up again.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace imgbuild::runtime {

struct BindTree {
  UniqueFd tree;  // detached mount, O_CLOEXEC
  bool is_dir = false;
};

// root empty: source is a host path. Otherwise source is relative to root (a leading "/" is the
// root) and resolved inside it. read_only makes the whole tree read-only (recursively).
Result<BindTree> open_bind_tree(const std::string& root, const std::string& source, bool read_only);

// The host path that rel names inside root, every component resolved inside root (as above):
// always root itself or below it. For APIs that take a path (an imgfs lower directory).
Result<std::string> resolve_in_root(const std::string& root, const std::string& rel);

}  // namespace imgbuild::runtime
