// The monitor of a detached container: a process of its own (the CLI's hidden
// `container-monitor` command, started through containers/monitor_launcher.h) that owns the
// container's mount, writes its output to containers/<id>/container.log, records it running and
// exited, runs its health check, and restarts it as its restart policy says until a stop is
// requested (containers/record_store.h).
#pragma once

#include <string>

#include "image/store.h"

namespace imgbuild::containers {

// The monitor's body (in the monitor process): reports to ready_fd (the protocol in
// containers/monitor_launcher.h; -1: none), then waits for the container and restarts it per its
// policy. Ignores SIGINT, SIGHUP, SIGTERM and SIGPIPE. Returns the process's exit code.
int monitor_container(const image::Store& store, const std::string& id, int ready_fd);

}  // namespace imgbuild::containers
