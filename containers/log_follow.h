// A detached container's log (containers/<id>/container.log: stdout and stderr as they were
// interleaved), copied to a sink as `logs` shows it; with LogFollow::kYes the copy goes on until
// the container is neither running nor restarting (polling its record), then takes what was
// written between the last read and the exit.
#pragma once

#include <functional>
#include <string_view>

#include "base/error.h"
#include "containers/record.h"
#include "image/store.h"

namespace imgbuild::containers {

enum class LogFollow { kNo, kYes };

// Receives the log's bytes in order; an error stops the copy and is returned.
using LogSink = std::function<Status(std::string_view bytes)>;

// A container without a log (it ran in the foreground, or never) has nothing to copy.
Status copy_log(const image::Store& store, const ContainerRecord& record, LogFollow follow,
                const LogSink& sink);

}  // namespace imgbuild::containers
