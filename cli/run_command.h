// `run` and `create` share one set of flags (Docker's `docker run` flags) and one way from them to
// a container record: create stops after the record (state "created"), run goes on to start it,
// in the foreground or, with -d, under a detached monitor.
#pragma once

#include "cli/command.h"

namespace imgbuild::cli {

enum class RunMode { kRun, kCreate };

Runner setup_run(CLI::App& sub, const GlobalOptions& globals, RunMode mode);

}  // namespace imgbuild::cli
