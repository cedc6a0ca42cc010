// imgbuild version: prints the version.
#include <cstdio>

#include "cli/command.h"

namespace imgbuild::cli {

IMGBUILD_COMMAND(version, Command{
                              .name = "version",
                              .description = "Show the imgbuild version",
                              .setup = [](CLI::App&, const GlobalOptions&) -> Runner {
                                return [] {
                                  std::puts("imgbuild 0.1.0");
                                  return 0;
                                };
                              },
                          });

}  // namespace imgbuild::cli
