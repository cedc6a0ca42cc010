// Progress of blob transfers, reported by pull and push to whoever displays it (the CLI draws
// per-layer lines on a terminal and plain lines otherwise). Implementations must be thread-safe:
// parallel transfer workers call them concurrently. Never given secrets.
#pragma once

#include <cstdint>
#include <string_view>

#include "image/digest.h"

namespace imgbuild::registry {

class Progress {
 public:
  virtual ~Progress() = default;
  // A transfer of `total` bytes (0 if unknown) starts; status e.g. "Downloading", "Pushing".
  virtual void begin(const image::Digest& blob, int64_t total, std::string_view status) = 0;
  // `done` bytes of the blob have moved so far.
  virtual void advance(const image::Digest& blob, int64_t done) = 0;
  // The blob's final state: "Pull complete", "Already exists", "Pushed", "Mounted from x/y", ...
  virtual void end(const image::Digest& blob, std::string_view status) = 0;
  // A whole line ("Digest: sha256:...", "latest: Pulling from library/app").
  virtual void message(std::string_view line) = 0;
};

}  // namespace imgbuild::registry
