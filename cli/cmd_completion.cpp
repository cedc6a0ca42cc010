// imgbuild completion bash|zsh: prints the shell completion script (cli/completion.h) for the
// command line this binary parses.
#include <cstdio>

#include "cli/command.h"
#include "cli/command_spec.h"
#include "cli/completion.h"

namespace imgbuild::cli {
namespace {

Runner setup_completion(CLI::App& sub, const GlobalOptions&) {
  auto shell = std::make_shared<std::string>();
  sub.add_option("SHELL", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  sub.footer("Load it with: source <(imgbuild completion bash)");
  return [shell, app = sub.get_parent()] {
    CommandSpec spec = describe_app(*app);
    std::string script = *shell == "zsh" ? zsh_completion(spec) : bash_completion(spec);
    std::fputs(script.c_str(), stdout);
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(completion, Command{
                                 .name = "completion",
                                 .description = "Print the shell completion script (bash or zsh)",
                                 .setup = setup_completion,
                                 .host_namespaces = true,
                             });

}  // namespace imgbuild::cli
