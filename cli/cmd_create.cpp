// imgbuild create [OPTIONS] IMAGE [COMMAND [ARG...]]: creates a container with `run`'s flags and
// prints its id; `start` runs it.
#include "cli/run_command.h"

namespace imgbuild::cli {

IMGBUILD_COMMAND(create, Command{
                             .name = "create",
                             .description = "Create a new container",
                             .setup =
                                 [](CLI::App& sub, const GlobalOptions& globals) {
                                   return setup_run(sub, globals, RunMode::kCreate);
                                 },
                         });

}  // namespace imgbuild::cli
