#include "image/gzip_member.h"

#include <zlib.h>

namespace imgbuild::image {

Result<std::string> gunzip_member(std::string_view data, size_t max_out, std::string_view what) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {
    return fail(ErrorKind::kInternal, "inflateInit2 failed for " + std::string(what));
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > max_out) {
      inflateEnd(&zs);
      return fail(ErrorKind::kLimit, std::string(what) + ": more than " + std::to_string(max_out) +
                                         " bytes uncompressed");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) break;  // input ended mid-member
  }
  std::string why = zs.msg != nullptr ? zs.msg : "truncated";
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return fail(ErrorKind::kCorrupt, std::string(what) + ": not a whole gzip member (" + why + ")");
  }
  return out;
}

}  // namespace imgbuild::image
