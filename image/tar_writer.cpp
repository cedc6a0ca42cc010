#include "image/tar_writer.h"

#include <algorithm>
#include <cstring>

namespace imgbuild::image {
namespace {

// Copies at most width bytes of value into a header field. An empty string_view may have a null
// data() pointer, and memcpy from null is undefined even for zero bytes.
void copy_field(char* field, size_t width, std::string_view value) {
  if (!value.empty()) memcpy(field, value.data(), std::min(value.size(), width));
}

constexpr size_t kBlock = 512;
constexpr size_t kFlushAt = 1 << 20;

// Octal field of `width` bytes: width-1 zero-padded digits and a NUL. False if it does not fit.
bool put_octal(char* field, size_t width, uint64_t value) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%0*llo", static_cast<int>(width - 1),
                   static_cast<unsigned long long>(value));
  if (n < 0 || static_cast<size_t>(n) > width - 1) return false;
  memcpy(field, tmp, static_cast<size_t>(n));
  field[n] = '\0';
  return true;
}

bool fits_octal(size_t width, int64_t value) {
  if (value < 0) return false;
  int bits = static_cast<int>(width - 1) * 3;
  return bits >= 63 || static_cast<uint64_t>(value) < (uint64_t{1} << bits);
}

// Splits a name into ustar's prefix (<=155) and name (<=100) at a '/'. False if impossible.
bool split_ustar_name(std::string_view name, std::string_view& prefix, std::string_view& rest) {
  if (name.size() <= 100) {
    prefix = {};
    rest = name;
    return true;
  }
  if (name.size() > 256) return false;
  for (size_t i = name.size() - 1; i > 0; --i) {
    if (name[i] != '/') continue;
    if (i > 155) continue;
    if (name.size() - i - 1 > 100) return false;
    if (name.size() - i - 1 == 0) return false;
    prefix = name.substr(0, i);
    rest = name.substr(i + 1);
    return true;
  }
  return false;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

void add_record(std::string& out, std::string_view key, std::string_view value) {
  // "<len> <key>=<value>\n" where len counts itself.
  size_t base = key.size() + value.size() + 3;
  size_t len = base + 1;
  while (std::to_string(len).size() + base != len) ++len;
  out += std::to_string(len);
  out += ' ';
  out += key;
  out += '=';
  out += value;
  out += '\n';
}

std::string header_block(std::string_view name, std::string_view prefix, char type, uint32_t mode,
                         int64_t uid, int64_t gid, int64_t size, int64_t mtime,
                         std::string_view linkname, uint32_t devmajor, uint32_t devminor) {
  std::string h(kBlock, '\0');
  char* p = h.data();
  copy_field(p, 100, name);
  put_octal(p + 100, 8, mode & 07777);
  put_octal(p + 108, 8, fits_octal(8, uid) ? static_cast<uint64_t>(uid) : 0);
  put_octal(p + 116, 8, fits_octal(8, gid) ? static_cast<uint64_t>(gid) : 0);
  put_octal(p + 124, 12, fits_octal(12, size) ? static_cast<uint64_t>(size) : 0);
  put_octal(p + 136, 12, fits_octal(12, mtime) ? static_cast<uint64_t>(mtime) : 0);
  p[156] = type;
  copy_field(p + 157, 100, linkname);
  memcpy(p + 257,
         "ustar\0"
         "00",
         8);
  if (type == '3' || type == '4') {
    put_octal(p + 329, 8, fits_octal(8, devmajor) ? devmajor : 0);
    put_octal(p + 337, 8, fits_octal(8, devminor) ? devminor : 0);
  }
  copy_field(p + 345, 155, prefix);
  memset(p + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  snprintf(p + 148, 8, "%06o", sum);
  p[155] = ' ';
  return h;
}

}  // namespace

TarWriter::TarWriter(Sink sink) : sink_(std::move(sink)) { buf_.reserve(kFlushAt + 64 * 1024); }

Status TarWriter::append(std::string_view bytes) {
  buf_.append(bytes);
  if (buf_.size() >= kFlushAt) {
    TRY(sink_(buf_));
    buf_.clear();
  }
  return {};
}

Status TarWriter::pad_entry() {
  if (remaining_ != 0) {
    return fail(
        ErrorKind::kInvalidArgument,
        "tar entry \"" + current_ + "\": " + std::to_string(remaining_) + " bytes of data missing");
  }
  size_t rem = static_cast<size_t>(entry_size_ % kBlock);
  entry_size_ = 0;
  if (rem != 0) TRY(append(std::string(kBlock - rem, '\0')));
  return {};
}

Status TarWriter::add(const TarEntry& e) {
  TRY(pad_entry());
  std::string name = e.name;
  if (e.type == TarEntry::Type::kDirectory && !name.empty() && name.back() != '/') name += '/';
  int64_t size = e.type == TarEntry::Type::kRegular ? e.size : 0;

  std::string pax;
  std::vector<std::pair<std::string, std::string>> records;
  std::string_view prefix, rest;
  if (!split_ustar_name(name, prefix, rest)) {
    records.emplace_back("path", name);
    rest = std::string_view(name).substr(0, 100);
    prefix = {};
  }
  if (e.linkname.size() > 100) records.emplace_back("linkpath", e.linkname);
  if (!fits_octal(8, e.uid)) records.emplace_back("uid", std::to_string(e.uid));
  if (!fits_octal(8, e.gid)) records.emplace_back("gid", std::to_string(e.gid));
  if (!fits_octal(12, size)) records.emplace_back("size", std::to_string(size));
  if (!fits_octal(12, e.mtime)) records.emplace_back("mtime", std::to_string(e.mtime));
  if (!fits_octal(8, e.devmajor))
    records.emplace_back("SCHILY.devmajor", std::to_string(e.devmajor));
  if (!fits_octal(8, e.devminor))
    records.emplace_back("SCHILY.devminor", std::to_string(e.devminor));
  for (const auto& [key, value] : e.xattrs) records.emplace_back("SCHILY.xattr." + key, value);
  // PAX strings are UTF-8 unless declared binary; Linux names are just bytes.
  bool has_names = false;
  for (const auto& [key, value] : records) {
    if ((key == "path" || key == "linkpath") && !valid_utf8(value)) has_names = true;
  }
  if (has_names) records.emplace_back("hdrcharset", "BINARY");
  if (!records.empty()) {
    std::sort(records.begin(), records.end());
    for (const auto& [key, value] : records) add_record(pax, key, value);
    // A fixed name keeps the stream reproducible (GNU tar's default embeds the pid).
    std::string pax_name = "PaxHeaders/" + std::string(rest.substr(0, 88));
    TRY(append(header_block(pax_name, {}, 'x', 0644, 0, 0, static_cast<int64_t>(pax.size()), 0, {},
                            0, 0)));
    pax.resize((pax.size() + kBlock - 1) / kBlock * kBlock, '\0');
    TRY(append(pax));
  }
  TRY(append(header_block(rest, prefix, static_cast<char>(e.type), e.mode, e.uid, e.gid, size,
                          e.mtime, e.linkname, e.devmajor, e.devminor)));
  remaining_ = size;
  entry_size_ = size;
  current_ = name;
  return {};
}

Status TarWriter::write_data(std::string_view data) {
  if (static_cast<int64_t>(data.size()) > remaining_) {
    return fail(ErrorKind::kInvalidArgument,
                "tar entry \"" + current_ + "\": more data than its header's size");
  }
  remaining_ -= static_cast<int64_t>(data.size());
  buf_.append(data);
  if (buf_.size() >= kFlushAt) {
    TRY(sink_(buf_));
    buf_.clear();
  }
  return {};
}

Status TarWriter::finish() {
  TRY(pad_entry());
  TRY(append(std::string(2 * kBlock, '\0')));
  if (!buf_.empty()) TRY(sink_(buf_));
  buf_.clear();
  return {};
}

}  // namespace imgbuild::image
