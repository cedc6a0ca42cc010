// Subcommand registry. Each cmd_<name>.cpp registers one Command with IMGBUILD_COMMAND; main.cpp
// only dispatches. A command's setup() adds its options to the CLI11 subcommand and returns the
// function to run after parsing; that function returns the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::cli {

struct GlobalOptions {
  std::string root;  // resolved store root (--root, IMGBUILD_ROOT, or the default)
  bool debug = false;
};

using Runner = std::function<int()>;

struct Command {
  std::string name;
  std::string description;
  std::function<Runner(CLI::App& sub, const GlobalOptions& globals)> setup;
  std::vector<std::string> aliases = {};
  // Run by an ordinary user in the user's own namespaces instead of the store's rootless ones
  // (runtime/rootless.h): commands that touch no store and no mount (version, parse, login, info).
  bool host_namespaces = false;
};

bool register_command(Command command);
const std::vector<Command>& commands();

// Prints "imgbuild: <message>" on stderr and returns exit code 1 (or `code`). Messages repeat
// their input, so control characters are printed escaped (ESC as "\x1b"; base/terminal_text.h).
int report_error(const Error& error, int code = 1);
// Docker's prune prompt: prints "WARNING! <warning>\nAre you sure you want to continue? [y/N] "
// and reads a line from stdin; true for y/Y/yes.
bool confirm(std::string_view warning);
// Prints a warning line (already worded, e.g. "[Warning] ...") on stderr, escaped likewise.
void print_warning(std::string_view line);

}  // namespace imgbuild::cli

#define IMGBUILD_COMMAND(ident, ...) \
  static const bool imgbuild_command_##ident = ::imgbuild::cli::register_command(__VA_ARGS__)
