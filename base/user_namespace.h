// Whether this process runs in a user namespace other than the initial one: its
// /proc/self/uid_map is not the identity map of every id. Rootless imgbuild (runtime/rootless.h)
// runs in one; code that meets the namespace's limits (no mknod, unmapped ids, no cgroup writes)
// asks this to say so in its errors. Reads /proc on every call (the answer changes on entering).
#pragma once

namespace imgbuild {

bool in_user_namespace();

}  // namespace imgbuild
