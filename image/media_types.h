// Media types of the OCI image spec and of Docker's image manifest v2 schema 2, and the mapping
// from Docker's to OCI's (Docker documents are read as their OCI equivalents). Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace imgbuild::image::media_types {

inline constexpr std::string_view kOciLayoutVersion = "1.0.0";

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciLayerNondistributable =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view kOciLayerNondistributableGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerForeignGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
// Not in Docker's spec, but written by some tools (BuildKit with zstd, podman).
inline constexpr std::string_view kDockerLayerZstd =
    "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr std::string_view kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";

// Annotations used in index.json of an OCI layout.
inline constexpr std::string_view kAnnotationRefName = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kAnnotationContainerdName = "io.containerd.image.name";

// The OCI equivalent of a Docker media type; other types are returned unchanged.
std::string to_oci(std::string_view media_type);

bool is_manifest(std::string_view media_type);  // OCI or Docker image manifest
bool is_index(std::string_view media_type);     // OCI index or Docker manifest list
bool is_layer(std::string_view media_type);     // any OCI or Docker layer type
bool is_docker(std::string_view media_type);    // application/vnd.docker.*

}  // namespace imgbuild::image::media_types
