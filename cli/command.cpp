#include "cli/command.h"

#include <cstdio>
#include <iostream>
#include <string>

#include "base/terminal_text.h"

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
  std::fprintf(stderr, "imgbuild: %s\n", escape_control_chars(error.message()).c_str());
  return code;
}

bool confirm(std::string_view warning) {
  std::printf("WARNING! %.*s\nAre you sure you want to continue? [y/N] ",
              static_cast<int>(warning.size()), warning.data());
  std::fflush(stdout);
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

void print_warning(std::string_view line) {
  std::fprintf(stderr, "%s\n", escape_control_chars(line).c_str());
}

}  // namespace imgbuild::cli
