// imgbuild unshare [COMMAND [ARG...]]: runs COMMAND (default: $SHELL, else /bin/sh) in the store's
// rootless user and mount namespaces (runtime/rootless.h), as `buildah unshare` and `podman
// unshare` do: there the store's files have the owners images give them, and imgfs mounts made by
// `imgbuild mount` are visible. As root it runs COMMAND as it is (root needs no namespace).
// IMGBUILD_ROOT names the store inside, so imgbuild commands run there use the same one.
#include <unistd.h>

#include <cstdlib>

#include "cli/command.h"

namespace imgbuild::cli {
namespace {

int run_unshare(std::vector<std::string> command) {
  if (command.empty()) {
    const char* shell = std::getenv("SHELL");
    command.push_back(shell != nullptr && *shell != '\0' ? shell : "/bin/sh");
  }
  std::vector<char*> argv;
  for (auto& a : command) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  int err = errno;
  return report_error(Error::from_errno("exec", command[0], err), err == ENOENT ? 127 : 126);
}

}  // namespace

IMGBUILD_COMMAND(unshare,
                 Command{
                     .name = "unshare",
                     .description = "Run a command in the rootless user and mount namespaces",
                     .setup = [](CLI::App& sub, const GlobalOptions&) -> Runner {
                       sub.prefix_command();  // everything is the command
                       return [&sub] { return run_unshare(sub.remaining()); };
                     },
                 });

}  // namespace imgbuild::cli
