#include "cli/command.h"

#include <cstdio>

namespace imgbuild::cli {

static std::vector<Command>& registry() {
  static std::vector<Command> all;
  return all;
}

bool register_command(Command command) {
  registry().push_back(std::move(command));
  return true;
}

const std::vector<Command>& commands() { return registry(); }

int report_error(const Error& error, int code) {
  std::fprintf(stderr, "imgbuild: %s\n", error.message().c_str());
  return code;
}

}  // namespace imgbuild::cli
