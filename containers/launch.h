// Creating a container from an image and starting it: in this process with the caller's stdio
// (`run`, `start -a`) or under a detached monitor (`run -d`, `start`; containers/monitor.h),
// started through a MonitorLauncher (containers/monitor_launcher.h). Nothing here prints: errors
// go back to the caller as values or, during a foreground run, to its ErrorSink.
//
// create_container resolves the image, prepares its layers, makes containers/<id>/ (refs.json
// first, so a concurrent prune keeps the image), mounts the union once to resolve the user in the
// image's /etc/passwd, and saves the record with the complete ProcessSpec. On error nothing of
// the container is left. The caller then runs it with run_foreground or start_detached.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "containers/image_pull.h"
#include "containers/lazy_mount.h"
#include "containers/monitor_launcher.h"
#include "containers/record.h"
#include "containers/restart_policy.h"
#include "fs/mount.h"
#include "image/store.h"
#include "runtime/port_mapping.h"
#include "runtime/process_config.h"

namespace imgbuild::containers {

struct CreateOptions {
  std::string image;
  PullPolicy pull = PullPolicy::kMissing;       // --pull
  registry::Progress* pull_progress = nullptr;  // where a pull reports
  std::string name;                             // empty: generated
  runtime::ProcessOverrides overrides;
  runtime::ProcessSpec spec;  // hostname, network, mounts, read_only_rootfs, tty, stdin_open,
                              // resources; the process fields are filled from the image
  bool auto_remove = false;
  bool detached = false;
  std::string stop_signal;                  // --stop-signal; "": the image's
  int stop_timeout = -1;                    // --stop-timeout
  std::vector<runtime::PortMapping> ports;  // -p
  bool publish_all = false;                 // -P: also every port the image EXPOSEs
  RestartPolicy restart_policy;             // --restart
  HealthConfig health;                      // --health-* / --no-healthcheck over the image's
  // --lazy: the image is mounted from its registry before it has downloaded
  // (containers/lazy_mount.h); every later mount of the container fetches what it reads.
  bool lazy = false;
};

// With keep_mount, the union mounted to resolve the user stays mounted and is handed over there
// (saves a second mount for a foreground run).
Result<ContainerRecord> create_container(const image::Store& store, const CreateOptions& options,
                                         std::unique_ptr<fs::Mount>* keep_mount = nullptr);

// The mount of the container's union (image layers + its upper) at containers/<id>/rootfs. A
// lazy container's (record.lazy_source) fetches the lazy layers' files as they are read, through
// `lazy` when given, else through a LazyMount prepared here from the store's copy of the image
// (the layers a pull has completed since are used from the store).
Result<fs::MountOptions> container_mount_options(const image::Store& store,
                                                 const ContainerRecord& record,
                                                 const LazyMount* lazy = nullptr);

// Mounts it, in this process.
Result<std::unique_ptr<fs::Mount>> mount_container(const image::Store& store,
                                                   const ContainerRecord& record,
                                                   const LazyMount* lazy = nullptr);

// A lazy container's LazyMount, prepared from the store's copy of its image.
Result<LazyMount> container_lazy_mount(const image::Store& store, const ContainerRecord& record);

// Errors met while a foreground container runs (the CLI prints them).
using ErrorSink = std::function<void(const Error&)>;

// Runs the container in this process with the terminal's stdio, restarting it as its restart
// policy says (in the foreground, until the policy gives up or a stop is requested: `stop`,
// `kill`, or a signal this process forwards to it); returns Docker's exit code of the last run
// (125 and the like when it could not start; each error also goes to report).
int run_foreground(const image::Store& store, ContainerRecord record, bool stdin_open,
                   std::unique_ptr<fs::Mount> mount, const ErrorSink& report);

// A start that failed, with the exit code Docker gives it.
struct StartFailure {
  Error error;
  int code;
};

// Spawns the container's monitor through launcher and waits until the container runs or failed
// to start (then an --rm container is removed).
std::expected<void, StartFailure> start_detached(const image::Store& store,
                                                 const ContainerRecord& record,
                                                 MonitorLauncher& launcher);

// The record of a stopped container made ready for another start: no stop request left, a fresh
// restart count (Docker gives every start a new restart manager), no mount left by a monitor
// that died. Saved.
Status prepare_start(const image::Store& store, ContainerRecord& record);

// Records the container's exit (status exited, exit code, finished time) or, for an --rm
// container, removes it with its anonymous volumes (as `rm -v`).
Status record_exit(const image::Store& store, ContainerRecord& record, int code);

// Records that the container exited with code and waits to be restarted by its policy (status
// restarting, one more restart counted).
void record_restarting(const image::Store& store, ContainerRecord& record, int code);

}  // namespace imgbuild::containers
