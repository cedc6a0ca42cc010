// Helpers shared by the image commands (import, images, inspect, tag, rmi, save, load, prune):
// opening the store named by the global options, and Docker's human-readable sizes and ages.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "cli/command.h"
#include "image/store.h"

namespace imgbuild::cli {

// Store::open(globals.root) with the root named in errors.
Result<image::Store> open_store(const GlobalOptions& globals);

// The end of Docker's prune commands: "<heading>:\n" and one name a line (when any), then
// "Total reclaimed space: <human_size>".
void print_prune_report(std::string_view heading, const std::vector<std::string>& deleted,
                        uint64_t reclaimed);

// Docker's units.HumanSize: decimal units, 3 significant digits ("4.26MB", "512B").
std::string human_size(uint64_t bytes);
// Docker's units.HumanDuration + " ago" ("About an hour ago", "3 days ago").
std::string human_age(int64_t unix_seconds, int64_t now_unix);
// An image's CREATED column: human_age of config.created, or "N/A".
std::string created_since(const image::ImageConfig& config);

// Go's time.Time.String() of an RFC 3339 time, in UTC, as Docker's CreatedAt columns print it:
// "2024-01-02 03:04:05 +0000 UTC"; the text unchanged when it does not parse.
std::string go_time_string(const std::string& rfc3339);

// Creates path by writing through a temp file in the same directory, renamed into place only when
// write succeeds ("-" writes to stdout directly).
Status write_file_via(const std::string& path, const std::function<Status(int fd)>& write);

}  // namespace imgbuild::cli
