// Creating a container from an image and running it: shared by `imgbuild run` (foreground) and
// the detached monitor (`imgbuild container-monitor`, started by `run -d`).
//
// create_container resolves the image, prepares its layers, makes containers/<id>/ (refs.json
// first, so a concurrent prune keeps the image), mounts the union once to resolve the user in the
// image's /etc/passwd, and saves the record with the complete ProcessSpec. On error nothing of
// the container is left. The caller then runs it with run_foreground or start_detached.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/container_state.h"
#include "containers/image_pull.h"
#include "containers/restart_policy.h"
#include "fs/mount.h"
#include "image/store.h"
#include "runtime/port_mapping.h"
#include "runtime/process_config.h"

namespace imgbuild::cli {

struct CreateOptions {
  std::string image;
  containers::PullPolicy pull = containers::PullPolicy::kMissing;  // --pull
  registry::Progress* pull_progress = nullptr;                     // where a pull reports
  std::string name;                                                // empty: generated
  runtime::ProcessOverrides overrides;
  runtime::ProcessSpec spec;  // hostname, network, mounts, read_only_rootfs, tty, stdin_open,
                              // resources; the process fields are filled from the image
  bool auto_remove = false;
  bool detached = false;
  std::string stop_signal;                   // --stop-signal; "": the image's
  int stop_timeout = -1;                     // --stop-timeout
  std::vector<runtime::PortMapping> ports;   // -p
  bool publish_all = false;                  // -P: also every port the image EXPOSEs
  containers::RestartPolicy restart_policy;  // --restart (detached only)
  containers::HealthConfig health;           // --health-* / --no-healthcheck over the image's
};

// With keep_mount, the union mounted to resolve the user stays mounted and is handed over there
// (saves a second mount for a foreground run).
Result<ContainerRecord> create_container(const image::Store& store, const CreateOptions& options,
                                         std::unique_ptr<fs::Mount>* keep_mount = nullptr);

// Mounts the container's union (image layers + its upper) at containers/<id>/rootfs.
Result<std::unique_ptr<fs::Mount>> mount_container(const image::Store& store,
                                                   const ContainerRecord& record);

// Runs the container in this process with the terminal's stdio; returns Docker's exit code
// (errors are printed).
int run_foreground(const image::Store& store, ContainerRecord record, bool stdin_open,
                   std::unique_ptr<fs::Mount> mount = nullptr);

// Spawns the monitor and waits until the container runs (or failed to start: then the error is
// printed and Docker's code returned). Prints nothing on success.
int start_detached(const image::Store& store, const ContainerRecord& record);

// The monitor's body (in the monitor process): reports to ready_fd, then waits.
int monitor_container(const image::Store& store, const std::string& id, int ready_fd);

}  // namespace imgbuild::cli
