#include "image/compression.h"

#include <string>

namespace imgbuild::image {

std::string_view layer_media_type(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "application/vnd.oci.image.layer.v1.tar";
    case Compression::kGzip:
    case Compression::kEstargz: return "application/vnd.oci.image.layer.v1.tar+gzip";
    case Compression::kZstd: return "application/vnd.oci.image.layer.v1.tar+zstd";
  }
  return "application/vnd.oci.image.layer.v1.tar";
}

Result<Compression> compression_for_media_type(std::string_view media_type) {
  struct Entry {
    std::string_view type;
    Compression compression;
  };
  static constexpr Entry kTypes[] = {
      {"application/vnd.oci.image.layer.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.v1.tar+zstd", Compression::kZstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::kZstd},
      {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", Compression::kGzip},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Compression::kGzip},
      {"application/vnd.docker.image.rootfs.diff.tar.zstd", Compression::kZstd},
  };
  for (const auto& entry : kTypes) {
    if (entry.type == media_type) return entry.compression;
  }
  return fail(ErrorKind::kUnsupported,
              "unsupported layer media type \"" + std::string(media_type) + "\"");
}

std::string_view compression_name(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kZstd: return "zstd";
    case Compression::kEstargz: return "estargz";
  }
  return "none";
}

Result<Compression> parse_compression(std::string_view name) {
  if (name == "none" || name == "uncompressed") return Compression::kNone;
  if (name == "gzip") return Compression::kGzip;
  if (name == "zstd") return Compression::kZstd;
  if (name == "estargz") return Compression::kEstargz;
  return fail(ErrorKind::kInvalidArgument, "unknown compression \"" + std::string(name) +
                                               "\" (expected gzip, zstd, estargz or none)");
}

StreamFormat detect_stream_format(std::string_view head) {
  auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) return StreamFormat::kGzip;
  if (starts("\x28\xb5\x2f\xfd")) return StreamFormat::kZstd;
  if (starts(std::string_view("\xfd"
                              "7zXZ\0",
                              6)))
    return StreamFormat::kXz;
  // "BZh" plus the block size digit, so a tar whose first name starts with "BZh" stays plain.
  if (starts("BZh") && head.size() > 3 && head[3] >= '1' && head[3] <= '9') {
    return StreamFormat::kBzip2;
  }
  return StreamFormat::kPlain;
}

std::string_view stream_format_name(StreamFormat format) {
  switch (format) {
    case StreamFormat::kPlain: return "plain";
    case StreamFormat::kGzip: return "gzip";
    case StreamFormat::kZstd: return "zstd";
    case StreamFormat::kXz: return "xz";
    case StreamFormat::kBzip2: return "bzip2";
  }
  return "plain";
}

}  // namespace imgbuild::image
