// Man pages generated from the command table (cli/command_spec.h): imgbuild(1) with the global
// options and the list of commands, and imgbuild-COMMAND(1) for each visible command with its
// synopsis, options and subcommands. Plain roff with the man macros, written so that
// `groff -man -ww` has nothing to warn about. Run at build time by the hidden `imgbuild __man DIR`
// (cli/cmd_man.cpp). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "cli/command_spec.h"

namespace imgbuild::cli {

struct ManPage {
  std::string file_name;  // "imgbuild.1", "imgbuild-build.1"
  std::string text;
};

// source: the .TH footer naming the program and version, e.g. "imgbuild 0.1.0".
std::vector<ManPage> man_pages(const CommandSpec& app, const std::string& source);

// Text escaped for roff: backslashes as \e, and a leading '.' or '\'' made literal.
std::string roff_escape(const std::string& text);

}  // namespace imgbuild::cli
