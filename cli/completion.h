// Shell completion scripts generated from the command table (cli/command_spec.h), printed by
// `imgbuild completion bash|zsh`. They complete command names (aliases too), each command's
// flags, the values of flags that name files or directories, and positional arguments by kind:
// container names from `imgbuild ps -a --format '{{.Names}}'` and image names from `imgbuild
// images --format '{{.Repository}}:{{.Tag}}'`, run at completion time with the --root typed on the
// line. The zsh script is the bash one run through zsh's bashcompinit. Pure functions.
#pragma once

#include <string>

#include "cli/command_spec.h"

namespace imgbuild::cli {

std::string bash_completion(const CommandSpec& app);
std::string zsh_completion(const CommandSpec& app);

}  // namespace imgbuild::cli
