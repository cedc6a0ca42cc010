// A read-only description of the command line (commands, aliases, options, positionals), taken
// from the CLI11 tree that main.cpp builds out of the registered commands (cli/command.h). Shell
// completion (cli/completion.h) and man pages (cli/man_page.h) are generated from it, so they
// cannot drift from what the parser accepts. Hidden commands and options (CLI11 group "") are
// kept with hidden = true; generators leave them out.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace imgbuild::cli {

// What an option value or positional argument names, for completion.
enum class ArgKind { kNone, kFile, kDirectory, kImage, kContainer, kImageOrContainer };

struct OptionSpec {
  std::vector<std::string> names;  // "-f", "--file": short names first
  std::string value_name;          // "TEXT", "INT", ...; empty for a flag
  std::string description;
  ArgKind kind = ArgKind::kNone;
  std::vector<std::string> choices;  // the allowed values (CLI::IsMember), when listed
  bool hidden = false;
};

struct PositionalSpec {
  std::string name;  // as given to CLI11 ("IMAGE", "containers")
  std::string description;
  ArgKind kind = ArgKind::kNone;
  std::vector<std::string> choices;
  bool required = false;
  bool repeated = false;
};

struct CommandSpec {
  std::string name;
  std::vector<std::string> aliases;
  std::string description;
  bool hidden = false;
  std::vector<OptionSpec> options;
  std::vector<PositionalSpec> positionals;
  // prefix_command(): the first positional (kind `command_target`) ends the options and the rest
  // of the line is a command to run (run IMAGE CMD..., exec CONTAINER CMD...).
  bool takes_command = false;
  ArgKind command_target = ArgKind::kNone;
  std::vector<CommandSpec> subcommands;  // sorted by name
};

// Describes app and its subcommands, recursively. The kinds are read off the names: a positional
// called IMAGE/SOURCE/REF is an image (inspect NAME: image or container), CONTAINER(s) a
// container, context,
// dir or MOUNTPOINT a directory, anything else a file; an option whose long name ends in "file" a
// file, in "dir", "root" or "context" a directory. prefix-command commands name their target in
// kPrefixTargets (run/create: an image, exec: a container). Values checked by CLI::IsMember list
// their choices (CLI11 shows them in the type name: "TEXT:{bash,zsh}").
CommandSpec describe_app(const CLI::App& app);

// The visible subcommands (aliases included) and visible option names of spec.
std::vector<std::string> visible_command_names(const CommandSpec& spec);
std::vector<std::string> visible_option_names(const CommandSpec& spec);

}  // namespace imgbuild::cli
