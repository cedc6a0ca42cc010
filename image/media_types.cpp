#include "image/media_types.h"

namespace imgbuild::image::media_types {

std::string to_oci(std::string_view t) {
  if (t == kDockerManifest) return std::string(kOciManifest);
  if (t == kDockerManifestList) return std::string(kOciIndex);
  if (t == kDockerConfig) return std::string(kOciConfig);
  if (t == kDockerLayerGzip) return std::string(kOciLayerGzip);
  if (t == kDockerLayerZstd) return std::string(kOciLayerZstd);
  if (t == kDockerLayerTar) return std::string(kOciLayer);
  if (t == kDockerLayerForeignGzip) return std::string(kOciLayerNondistributableGzip);
  return std::string(t);
}

bool is_manifest(std::string_view t) { return t == kOciManifest || t == kDockerManifest; }
bool is_index(std::string_view t) { return t == kOciIndex || t == kDockerManifestList; }

bool is_layer(std::string_view t) {
  return t.starts_with("application/vnd.oci.image.layer.") ||
         t.starts_with("application/vnd.docker.image.rootfs.");
}

bool is_docker(std::string_view t) { return t.starts_with("application/vnd.docker."); }

}  // namespace imgbuild::image::media_types
