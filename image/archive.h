// Image archives: `imgbuild save` / `imgbuild load`.
//
// save_archive() writes a tar that is an OCI image layout (oci-layout, index.json whose entries
// carry org.opencontainers.image.ref.name and io.containerd.image.name = the full reference,
// blobs/sha256/<hex>). ArchiveFormat::kDocker adds what `docker load` reads: manifest.json
// ([{"Config","RepoTags","Layers"}], paths into blobs/) and the legacy `repositories` file, the
// layout Docker 25+ itself writes. Output is deterministic (sorted entries, mtime 0, uid/gid 0).
//
// load_archive() reads either layout (plain or gzip/zstd/xz-compressed tar; index.json preferred
// when both are present; Docker archives with uncompressed layer.tar files and symlinked duplicate
// layers too). Everything is staged under the store's tmp/ and verified before the first blob
// enters the store: every blob's digest, every manifest and config parsed (JSON documents up to
// 64 MiB), every layer present, and, as `docker load` does, every layer's content: it must
// decompress to a tar whose sha256 is the diff ID its config names, and extract under the
// hostile-tar rules of layer_extractor.h (a layer the store has not unpacked yet is extracted
// then, and its directory adopted with the blobs). So a truncated, corrupt or hostile archive
// leaves the store unchanged: no tag, no blob, no layer directory, nothing in tmp/. Errors name
// the archive and the entry: `x.tar: archive entry "blobs/sha256/ab..": diff ID mismatch: ...`.
//
// Both are thread-safe in the sense of the Store; the fds are not closed.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "image/reference.h"
#include "image/store.h"

namespace imgbuild::image {

enum class ArchiveFormat { kOci, kDocker };

struct SaveRequest {
  Image image;
  std::vector<Reference> refs;  // names written to index.json / RepoTags (may be empty)
};

Status save_archive(const Store& store, const std::vector<SaveRequest>& images,
                    ArchiveFormat format, int out_fd);

struct LoadedImage {
  Digest manifest_digest;
  Digest config_digest;
  std::vector<Reference> tags;
};

// source names the input in errors ("busybox.tar", "stdin").
Result<std::vector<LoadedImage>> load_archive(const Store& store, int in_fd,
                                              std::string_view source);

// The chain ID of the top layer (OCI image-spec "ChainID"); empty for no layers.
std::string chain_id_hex(const std::vector<Digest>& diff_ids);

}  // namespace imgbuild::image
