#include "image/estargz_toc.h"

#include <charconv>
#include <cstdio>

#include "base/base64.h"
#include "image/json_util.h"

namespace imgbuild::image::estargz {
namespace {

using json_util::json;

constexpr std::string_view kFooterMagic = "STARGZ";

template <class T>
void put(json& j, const char* key, const T& value) {
  if (value != T{}) j[key] = value;
}

}  // namespace

std::string serialize_toc(const Toc& toc) {
  json entries = json::array();
  for (const TocEntry& e : toc.entries) {
    json j = json::object();
    j["name"] = e.name;
    j["type"] = e.type;
    put(j, "size", e.size);
    put(j, "modtime", e.modtime);
    put(j, "linkName", e.link_name);
    put(j, "mode", e.mode);
    put(j, "uid", e.uid);
    put(j, "gid", e.gid);
    put(j, "userName", e.user_name);
    put(j, "groupName", e.group_name);
    put(j, "offset", e.offset);
    put(j, "innerOffset", e.inner_offset);
    put(j, "chunkOffset", e.chunk_offset);
    put(j, "chunkSize", e.chunk_size);
    put(j, "digest", e.digest);
    put(j, "chunkDigest", e.chunk_digest);
    put(j, "devMajor", e.dev_major);
    put(j, "devMinor", e.dev_minor);
    if (!e.xattrs.empty()) {
      json x = json::object();
      for (const auto& [k, v] : e.xattrs) x[k] = base64_encode(v);
      j["xattrs"] = std::move(x);
    }
    entries.push_back(std::move(j));
  }
  json doc = json::object();
  doc["version"] = toc.version;
  doc["entries"] = std::move(entries);
  return json_util::dump(doc);
}

std::string make_footer(int64_t toc_offset) {
  char subfield[23];
  std::snprintf(subfield, sizeof subfield, "%016llxSTARGZ",
                static_cast<unsigned long long>(toc_offset));
  std::string out;
  out += std::string("\x1f\x8b\x08\x04", 4);  // gzip, deflate, FEXTRA
  out += std::string(4, '\0');                // MTIME
  out += '\0';                                // XFL
  out += '\xff';                              // OS unknown
  out += std::string("\x1a\x00", 2);          // XLEN 26
  out += "SG";
  out += std::string("\x16\x00", 2);  // subfield length 22
  out += std::string(subfield, 22);
  out += std::string("\x01\x00\x00\xff\xff", 5);  // final stored block, empty
  out += std::string(8, '\0');                    // CRC32 and ISIZE of nothing
  return out;
}

Result<int64_t> parse_footer(std::string_view f) {
  auto bad = [](std::string_view why) {
    return fail(ErrorKind::kCorrupt, "not an eStargz footer: " + std::string(why));
  };
  if (static_cast<int64_t>(f.size()) != kFooterSize) return bad("wrong size");
  if (f.substr(0, 4) != std::string_view("\x1f\x8b\x08\x04", 4)) return bad("no gzip extra field");
  if (f.substr(10, 2) != std::string_view("\x1a\x00", 2) || f.substr(12, 2) != "SG" ||
      f.substr(14, 2) != std::string_view("\x16\x00", 2)) {
    return bad("no SG subfield");
  }
  std::string_view sub = f.substr(16, 22);
  if (sub.substr(16) != kFooterMagic) return bad("no STARGZ magic");
  uint64_t offset = 0;
  auto [end, ec] = std::from_chars(sub.data(), sub.data() + 16, offset, 16);
  if (ec != std::errc() || end != sub.data() + 16 || offset > static_cast<uint64_t>(INT64_MAX)) {
    return bad("bad TOC offset");
  }
  return static_cast<int64_t>(offset);
}

}  // namespace imgbuild::image::estargz
