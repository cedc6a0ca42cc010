// The commands' view of containers: the engine's record vocabulary (containers/record_store.h,
// containers/stop.h), named here so each command reads `find_record`, `is_running`..., and the
// few Docker flag values and texts only the command line has (sizes, signals, durations).
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"
#include "containers/record.h"
#include "containers/record_store.h"
#include "containers/stop.h"

namespace imgbuild::cli {

using containers::clear_stop_request;
using containers::container_dir;
using containers::container_rootfs;
using containers::ContainerList;
using containers::ContainerRecord;
using containers::ContainerStatus;
using containers::find_any_record;
using containers::find_record;
using containers::is_active;
using containers::is_restarting;
using containers::is_running;
using containers::list_records;
using containers::load_health;
using containers::load_record;
using containers::observed_status;
using containers::parse_container_status;
using containers::pid_belongs;
using containers::remove_container_files;
using containers::request_stop;
using containers::save_record;
using containers::to_string;
using containers::UnreadableRecord;

// Parses Docker's size strings: "32m", "1g", "512k", "100" (bytes), "1.5g".
Result<int64_t> parse_size(const std::string& text);

// Signal by name ("SIGTERM", "TERM", "KILL") or number; kInvalidArgument otherwise.
Result<int> parse_signal(const std::string& text);

// Docker's human durations: "Less than a second", "5 seconds", "About a minute", "3 hours"...
std::string human_duration(int64_t seconds);

}  // namespace imgbuild::cli
