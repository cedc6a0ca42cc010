// What `run` adds to a container after create_container (containers/launch.h) has made it:
// its labels (the image's Labels, then --label-file and --label, as Docker merges them into
// Config.Labels) and its volumes (containers/volumes.h: a named or anonymous volume that is still
// empty gets the image's content at its target, Docker's first-use copy). The record is saved
// again. On error the caller removes the container.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "containers/record.h"
#include "fs/mount.h"
#include "image/store.h"

namespace imgbuild::containers {

struct ContainerExtras {
  std::map<std::string, std::string> labels;  // --label-file, then --label
  // -v NAME:/path, -v /path, --mount type=volume: added to record.spec.mounts here, with an
  // anonymous volume for each of the image's VOLUME paths no mount covers (as Docker).
  struct Volume {
    std::string name;  // "" for a new anonymous volume
    std::string target;
    bool read_only = false;
    bool no_copy = false;
  };
  std::vector<Volume> volumes;
};

// mounted: the container's union when the caller keeps it mounted; nullptr: mounted here when a
// volume needs the image's content.
Status add_container_extras(const image::Store& store, ContainerRecord& record,
                            const ContainerExtras& extras, fs::Mount* mounted);

// `rm -v` (and `run --rm`, as Docker): removes the anonymous volumes of a removed container that
// no other container mounts; named volumes stay.
Status remove_anonymous_volumes(const image::Store& store, const ContainerRecord& record);

}  // namespace imgbuild::containers
