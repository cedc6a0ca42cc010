// From an image's config (Entrypoint, Cmd, Env, WorkingDir, User) plus `docker run`-style
// overrides to the process part of a ProcessSpec, with Docker's rules:
//   - args: --entrypoint E replaces the image's Entrypoint and drops the image's Cmd
//     (--entrypoint "" clears it); CMD arguments given replace the image's Cmd;
//     args = entrypoint + cmd; empty -> kInvalidArgument "no command specified".
//   - env: the image's Env, then the overrides (same key replaces, in place); PATH defaults to
//     /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, HOME to the user's home
//     directory (or /), HOSTNAME to the hostname, TERM=xterm with a tty.
//   - cwd: the override, else WorkingDir, else "/"; must be absolute.
//   - user: "", name, uid, name:group, uid:gid, name:gid, uid:group, resolved in the root's
//     /etc/passwd and /etc/group (see user.h).
//
// Reads only /etc/passwd and /etc/group of the root, through RESOLVE_IN_ROOT (hostile roots).
// Thread-safe (no shared state).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/image_config.h"
#include "runtime/container.h"

namespace imgbuild::runtime {

inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct ProcessOverrides {
  std::optional<std::vector<std::string>> entrypoint;  // --entrypoint (one word, or {} for "")
  std::vector<std::string> cmd;                        // CMD... after the image name
  std::vector<std::string> env;                        // -e / --env-file, "K=V" (or "K" = unset)
  std::optional<std::string> working_dir;              // -w
  std::optional<std::string> user;                     // -u
};

// Fills spec.args, env, cwd, uid, gid and additional_gids. spec.hostname and spec.tty must be set
// before (they feed HOSTNAME and TERM). Errors: kInvalidArgument (no command, relative workdir),
// kNotFound (unknown user or group, naming it and the file).
Status apply_image_config(const std::string& rootfs, const image::ContainerConfig& config,
                          const ProcessOverrides& overrides, ProcessSpec& spec);

// Docker's merge of "K=V" lists: later entries replace earlier ones with the same key, keeping
// the first position; a bare "K" in overrides removes K.
std::vector<std::string> merge_env(const std::vector<std::string>& base,
                                   const std::vector<std::string>& overrides);

}  // namespace imgbuild::runtime
