// How much the registry client reads into memory from a registry. Layers stream to disk and are
// bounded by their descriptor's size; everything else (manifests, indexes, image configs, token
// responses, error bodies) is collected whole, so it gets a fixed cap whatever size a descriptor
// or Content-Length declares: a hostile registry that declares 10 GB, or streams without end,
// gets an error naming the reference and digest instead of the process's memory. Listed in
// docs/limits.md.
#pragma once

#include <cstddef>
#include <string>

namespace imgbuild::registry {

// An image manifest or index (OCI distribution spec: registries may refuse larger ones; Docker
// and containerd read at most 4 MiB).
inline constexpr size_t kMaxManifestBytes = size_t{4} << 20;
// An image config blob.
inline constexpr size_t kMaxConfigBytes = size_t{8} << 20;
// A token service's answer (a JWT and a few fields; real ones are a few KiB).
inline constexpr size_t kMaxTokenResponseBytes = size_t{1} << 20;
// Any other successful (2xx) body read into memory: GET /v2/, upload and mount answers.
inline constexpr size_t kMaxResponseBodyBytes = size_t{1} << 20;
// The body of an error answer (non-2xx), read only for its message: what is beyond this is not
// read, and the answer is returned with the body cut short (not an error).
inline constexpr size_t kMaxErrorBodyBytes = size_t{64} << 10;

// "4 MiB" for a whole number of MiB, else "1234 bytes": how limits are named in errors.
std::string limit_text(size_t bytes);

}  // namespace imgbuild::registry
