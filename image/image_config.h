// Image configuration (OCI image-spec config.json, which Docker's image config extends): what a
// container of the image runs, its filesystem's diff IDs and its history.
//
// Fields this struct does not model are kept in `extra` (top level) and `config.extra` and are
// written back unchanged, so a config read and re-serialised keeps its meaning. serialize() is
// deterministic: keys sorted, compact, so the same config always gets the same digest (the image
// ID). Value type.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/digest.h"
#include "image/platform.h"

namespace imgbuild::image {

struct HistoryEntry {
  std::string created;  // RFC 3339, may be empty
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;  // true: this step made no layer (ENV, CMD, ...)
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const HistoryEntry&) const = default;
};

// The "config" object: how to run a container of the image. Docker's capitalised field names.
struct ContainerConfig {
  std::string user;                                    // User
  std::vector<std::string> env;                        // Env, "KEY=value"
  std::optional<std::vector<std::string>> cmd;         // Cmd (null and [] differ)
  std::optional<std::vector<std::string>> entrypoint;  // Entrypoint
  std::string working_dir;                             // WorkingDir
  std::set<std::string> exposed_ports;                 // ExposedPorts, "80/tcp"
  std::set<std::string> volumes;                       // Volumes
  std::map<std::string, std::string> labels;           // Labels
  std::string stop_signal;                             // StopSignal
  std::optional<nlohmann::json> healthcheck;           // Healthcheck, kept as given
  std::vector<std::string> shell;                      // Shell (Docker extension)
  std::vector<std::string> on_build;                   // OnBuild (Docker extension)
  nlohmann::json extra = nlohmann::json::object();     // other keys (Hostname, ArgsEscaped, ...)

  // Env lookup: the value of KEY, or nullopt.
  std::optional<std::string> env_value(std::string_view key) const;
  // Sets or replaces KEY=value, keeping order.
  void set_env(std::string_view key, std::string_view value);

  bool operator==(const ContainerConfig&) const = default;
};

struct ImageConfig {
  std::string created;  // RFC 3339 (UTC "2024-01-02T03:04:05Z"), may be empty
  std::string author;
  std::string architecture;
  std::string os;
  std::string variant;
  std::string os_version;
  ContainerConfig config;
  std::string rootfs_type = "layers";
  std::vector<Digest> diff_ids;  // rootfs.diff_ids, bottom layer first
  std::vector<HistoryEntry> history;
  nlohmann::json extra = nlohmann::json::object();  // other top-level keys

  // Errors are kCorrupt, prefixed "image config: ", naming the field.
  static Result<ImageConfig> parse(std::string_view bytes);
  static Result<ImageConfig> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
  std::string serialize() const;

  Platform platform() const;
  // Number of history entries with empty_layer false; equals diff_ids.size() when consistent.
  size_t non_empty_history_count() const;

  bool operator==(const ImageConfig&) const = default;
};

// Current UTC time (or SOURCE_DATE_EPOCH-style fixed seconds) as RFC 3339 "...Z".
std::string rfc3339_utc(int64_t unix_seconds);
std::string rfc3339_now();
// Parses the RFC 3339 timestamps found in image configs ("2024-01-02T03:04:05.123456789Z",
// "+02:00" offsets); nullopt when unparsable.
std::optional<int64_t> parse_rfc3339(std::string_view text);

}  // namespace imgbuild::image
