// Which subcommand a command line names. `build` is the default command, as `imgbuild -f
// Dockerfile -t app .` has always meant `imgbuild build ...`, but only when the first word after
// the global options is a flag, "-" (the Dockerfile on stdin) or an existing directory; any other
// word is a mistyped or missing command and gets Docker's "is not a command" message, with the
// nearest command names (edit distance <= 2) suggested as cobra does. Pure functions (the
// directory test is passed in); kept apart from main.cpp so unit tests can call them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgbuild::cli {

// Docker's management commands map onto the top-level ones: "image ls" -> "images", "image rm" ->
// "rmi", "image inspect" -> "inspect --type image", "container ls" -> "ps", "container inspect" ->
// "inspect --type container", and "image|container WORD" -> "WORD" for the other commands Docker
// has under both (image history/tag/pull/push/save/load/import/build/prune; container run/exec/
// logs/stop/kill/...). Only to commands that exist here; anything else is left for the
// "container" command itself (container prune) or for the usual error.
std::vector<std::string> expand_management_command(std::vector<std::string> args, size_t at,
                                                   const std::vector<std::string>& command_names);

// Returns args with "build" inserted after the global options when the default command applies;
// args unchanged when a command, help or --version is named or nothing follows the globals;
// "image WORD" and "container WORD" as expand_management_command.
// kNotFound with the full message (first line "'WORD' is not an imgbuild command.") otherwise.
Result<std::vector<std::string>> with_default_command(
    std::vector<std::string> args, const std::vector<std::string>& command_names,
    const std::function<bool(const std::string&)>& is_directory);

// Command names within edit distance 2 of word (or that start with it), nearest first.
std::vector<std::string> suggest_commands(const std::string& word,
                                          const std::vector<std::string>& command_names);

// Levenshtein distance, counting a transposition of neighbours as one edit ("exce" -> "exec").
size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace imgbuild::cli
