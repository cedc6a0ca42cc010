// The build's progress display as the CLI shows it: step titles, cache-miss reasons, step errors
// and notes repeat Dockerfile text (instructions, paths, build args), so their control characters
// are escaped before they reach the display (base/terminal_text.h). A command's own output is
// passed through as it is, as Docker does: it is the program's output, not our message.
// Thread-safe as the wrapped Progress is.
#pragma once

#include <memory>

#include "builder/progress.h"

namespace imgbuild::cli {

std::unique_ptr<builder::Progress> escaping_progress(std::unique_ptr<builder::Progress> inner);

}  // namespace imgbuild::cli
