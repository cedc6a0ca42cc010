// Layer compression: the algorithms a layer blob may use, their OCI/Docker media types, and
// detection of a stream's compression from its first bytes. Pure functions, thread-safe.
#pragma once

#include <string_view>

#include "base/error.h"

namespace imgbuild::image {

// What layers are written with. Input streams may also be xz or bzip2 (see StreamFormat).
// kEstargz is gzip framed for lazy pulling (image/estargz_writer.h): its blobs are gzip (media
// type, readers), but only push and save write it, from a layer's tar structure; a plain
// BlobCompressor refuses it.
enum class Compression { kNone, kGzip, kZstd, kEstargz };

// application/vnd.oci.image.layer.v1.tar, ...tar+gzip (also eStargz), ...tar+zstd.
std::string_view layer_media_type(Compression compression);
// Accepts the OCI layer types (including non-distributable ones) and Docker's
// (application/vnd.docker.image.rootfs.diff.tar.gzip, ...foreign..., ...tar, ...tar.zstd).
// kUnsupported "unsupported layer media type \"...\"" otherwise.
Result<Compression> compression_for_media_type(std::string_view media_type);
// "none", "gzip", "zstd", "estargz".
std::string_view compression_name(Compression compression);
// Parses "none"/"uncompressed", "gzip", "zstd", "estargz" (for command-line flags).
Result<Compression> parse_compression(std::string_view name);

// What a byte stream is, judged by its magic bytes.
enum class StreamFormat { kPlain, kGzip, kZstd, kXz, kBzip2 };
// head: the first bytes of the stream (6 are enough); shorter heads are judged kPlain.
StreamFormat detect_stream_format(std::string_view head);
std::string_view stream_format_name(StreamFormat format);

}  // namespace imgbuild::image
