// Volumes kept in the store (Docker's "local" driver): <root>/volumes/<name>/_data is what a
// container mounts, <root>/volumes/<name>/volume.json records the volume (docs/store_format.md).
//
// A named volume comes from `volume create NAME` or `run -v NAME:/path` (created on first use);
// an anonymous one (a 64-hex name) from an image's VOLUME entry or `-v /path`, and `rm -v` or
// `volume prune` removes it. Volumes are not image content: prune and the store's garbage
// collection never touch them. Whether a container uses a volume is the container records'
// business (the cli's), not this module's.
//
// Thread-compatible; concurrent processes: create is idempotent (the directory is made by
// rename of a complete staging directory, an existing volume wins), remove renames the volume
// out of volumes/ before deleting it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "image/store.h"

namespace imgbuild::containers {

enum class VolumeKind { kNamed, kAnonymous };

struct VolumeInfo {
  std::string name;
  std::string created;     // RFC 3339
  std::string mountpoint;  // <root>/volumes/<name>/_data
  VolumeKind kind = VolumeKind::kNamed;
  std::map<std::string, std::string> labels;
};

// Docker's rule for local volume names, [a-zA-Z0-9][a-zA-Z0-9_.-]+: kInvalidArgument
// "create NAME: \"NAME\" includes invalid characters for a local volume name, only
// \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use
// absolute path".
Status check_volume_name(std::string_view name);

std::string volumes_dir(const image::Store& store);  // <root>/volumes

// Creates the volume (an empty name: a new anonymous one) or returns the existing one with that
// name (labels of an existing volume are kept, as Docker does).
Result<VolumeInfo> create_volume(const image::Store& store, const std::string& name,
                                 VolumeKind kind,
                                 const std::map<std::string, std::string>& labels = {});
// kNotFound "get NAME: no such volume".
Result<VolumeInfo> load_volume(const image::Store& store, const std::string& name);
// Every volume, by name. A volume whose volume.json is unreadable is listed as named.
Result<std::vector<VolumeInfo>> list_volumes(const image::Store& store);
// Docker's `volume inspect` object (CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope).
nlohmann::json inspect_json(const VolumeInfo& volume);
// Removes the volume and its data (kNotFound as load_volume).
Status remove_volume(const image::Store& store, const std::string& name);

// Docker's first-use copy: when the volume's _data is empty and the container's root has a
// directory at target, copies that directory's content (owners, modes, times, xattrs) into it,
// resolving target inside root (a hostile image's symlinks stay inside it). Returns whether it
// copied.
Result<bool> populate_volume(const image::Store& store, const VolumeInfo& volume,
                             const std::string& root, const std::string& target);

}  // namespace imgbuild::containers
