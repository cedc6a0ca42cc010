#include "image/tar_splitter.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace imgbuild::image {
namespace {

constexpr size_t kBlock = 512;
// Extension headers (PAX records, GNU long names) are read whole into memory: bounded.
constexpr int64_t kMaxExtensionSize = 1 << 20;

size_t padding_of(int64_t size) {
  return static_cast<size_t>((kBlock - static_cast<uint64_t>(size) % kBlock) % kBlock);
}

std::string field_string(const char* block, size_t offset, size_t length) {
  const char* p = block + offset;
  return std::string(p, strnlen(p, length));
}

// Octal (NUL/space padded) or GNU base-256 (high bit of the first byte set).
std::optional<int64_t> field_number(const char* block, size_t offset, size_t length) {
  const auto* p = reinterpret_cast<const unsigned char*>(block + offset);
  if ((p[0] & 0x80) != 0) {
    if ((p[0] & 0x40) != 0) return std::nullopt;  // negative
    uint64_t v = p[0] & 0x3f;
    for (size_t i = 1; i < length; ++i) {
      if (v > (UINT64_MAX >> 8)) return std::nullopt;
      v = (v << 8) | p[i];
    }
    if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  size_t i = 0;
  while (i < length && (p[i] == ' ' || p[i] == '\0')) ++i;
  uint64_t v = 0;
  bool any = false;
  for (; i < length && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v > (static_cast<uint64_t>(INT64_MAX) >> 3)) return std::nullopt;
    v = v * 8 + (p[i] - '0');
    any = true;
  }
  for (; i < length; ++i) {
    if (p[i] != ' ' && p[i] != '\0') return std::nullopt;
  }
  if (!any) return 0;
  return static_cast<int64_t>(v);
}

bool is_zero_block(const char* block) {
  return std::all_of(block, block + kBlock, [](char c) { return c == '\0'; });
}

bool checksum_ok(const char* block) {
  auto stored = field_number(block, 148, 8);
  if (!stored) return false;
  int64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    bool in_field = i >= 148 && i < 156;
    unsigned_sum += in_field ? ' ' : static_cast<unsigned char>(block[i]);
    signed_sum += in_field ? ' ' : static_cast<signed char>(block[i]);
  }
  return *stored == unsigned_sum || *stored == signed_sum;
}

std::optional<int64_t> parse_decimal(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || v < 0) return std::nullopt;
  if (end != text.data() + text.size() && *end != '.') return std::nullopt;
  return v;
}

struct PaxOverrides {
  std::optional<std::string> path, linkpath, uname, gname;
  std::optional<int64_t> size, uid, gid, mtime;
  long mtime_nsec = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

Status parse_pax(std::string_view records, PaxOverrides& out, const std::string& subject) {
  auto bad = [&] {
    return fail(ErrorKind::kCorrupt, "tar: malformed PAX header before " + subject);
  };
  while (!records.empty()) {
    size_t space = records.find(' ');
    if (space == std::string_view::npos) return bad();
    auto length = parse_decimal(records.substr(0, space));
    if (!length || *length <= static_cast<int64_t>(space) + 1 ||
        *length > static_cast<int64_t>(records.size())) {
      return bad();
    }
    std::string_view record = records.substr(space + 1, static_cast<size_t>(*length) - space - 1);
    records.remove_prefix(static_cast<size_t>(*length));
    if (record.empty() || record.back() != '\n') return bad();
    record.remove_suffix(1);
    size_t eq = record.find('=');
    if (eq == std::string_view::npos) return bad();
    std::string_view key = record.substr(0, eq);
    std::string value(record.substr(eq + 1));
    auto number = [&](std::optional<int64_t>& slot) -> Status {
      slot = parse_decimal(value);
      if (!slot) return bad();
      return {};
    };
    if (key == "path") {
      out.path = value;
    } else if (key == "linkpath") {
      out.linkpath = value;
    } else if (key == "uname") {
      out.uname = value;
    } else if (key == "gname") {
      out.gname = value;
    } else if (key == "size") {
      TRY(number(out.size));
    } else if (key == "uid") {
      TRY(number(out.uid));
    } else if (key == "gid") {
      TRY(number(out.gid));
    } else if (key == "mtime") {
      TRY(number(out.mtime));
      if (size_t dot = value.find('.'); dot != std::string::npos) {
        std::string frac = value.substr(dot + 1, 9);
        frac.resize(9, '0');
        out.mtime_nsec = std::strtol(frac.c_str(), nullptr, 10);
      }
    } else if (key.starts_with("SCHILY.xattr.")) {
      out.xattrs.emplace_back(std::string(key.substr(13)), value);
    } else if (key.starts_with("GNU.sparse.")) {
      return fail(ErrorKind::kUnsupported,
                  "tar: GNU sparse files are not supported (" + subject + ")");
    }
  }
  return {};
}

Result<TarEntry::Type> entry_type(char flag, const std::string& name) {
  switch (flag) {
    case '0':
    case '\0':
    case '7': return name.ends_with('/') ? TarEntry::Type::kDirectory : TarEntry::Type::kRegular;
    case '1': return TarEntry::Type::kHardLink;
    case '2': return TarEntry::Type::kSymlink;
    case '3': return TarEntry::Type::kChar;
    case '4': return TarEntry::Type::kBlock;
    case '5': return TarEntry::Type::kDirectory;
    case '6': return TarEntry::Type::kFifo;
    case 'S':
      return fail(ErrorKind::kUnsupported,
                  "tar: GNU sparse files are not supported (" + name + ")");
    default:
      return fail(ErrorKind::kUnsupported,
                  std::string("tar: unsupported entry type '") + flag + "' (" + name + ")");
  }
}

}  // namespace

Result<bool> TarSplitter::fill(size_t n) {
  while (buf_.size() - pos_ < n && !input_done_) {
    if (pos_ > 0 && pos_ >= buf_.size() / 2) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    std::string_view chunk = TRY(input_.next());
    if (chunk.empty()) {
      input_done_ = true;
    } else {
      buf_.append(chunk);
    }
  }
  return buf_.size() - pos_ >= n;
}

std::string_view TarSplitter::take(size_t n) {
  std::string_view out(buf_.data() + pos_, n);
  sha_.update(out);
  pos_ += n;
  return out;
}

Result<std::string> TarSplitter::read_extension(int64_t size, std::string& raw) {
  if (size < 0 || size > kMaxExtensionSize) {
    return fail(ErrorKind::kLimit, "tar: extension header of " + std::to_string(size) +
                                       " bytes (limit " + std::to_string(kMaxExtensionSize) + ")");
  }
  size_t padded = static_cast<size_t>(size) + padding_of(size);
  if (!TRY(fill(padded))) return fail(ErrorKind::kCorrupt, "tar: truncated extension header");
  std::string_view data = take(padded);
  raw.append(data);
  return std::string(data.substr(0, static_cast<size_t>(size)));
}

Result<std::optional<SplitTarEntry>> TarSplitter::next() {
  if (data_left_ != 0 || padding_left_ != 0) {
    return fail(ErrorKind::kInternal, "tar: next() before the data of " + current_ + " was read");
  }
  SplitTarEntry entry;
  PaxOverrides pax;
  std::optional<std::string> long_name, long_link;
  std::string where = current_.empty() ? "the first entry" : "the entry after " + current_;
  for (;;) {
    if (!TRY(fill(kBlock))) {
      if (buf_.size() == pos_ && entry.raw_header.empty()) return std::nullopt;
      return fail(ErrorKind::kCorrupt, "tar: truncated header at " + where);
    }
    const char* block = buf_.data() + pos_;
    if (is_zero_block(block)) {
      if (!entry.raw_header.empty()) {
        return fail(ErrorKind::kCorrupt, "tar: extension header without an entry at " + where);
      }
      return std::nullopt;
    }
    if (!checksum_ok(block))
      return fail(ErrorKind::kCorrupt, "tar: bad header checksum at " + where);
    char flag = block[156];
    auto size = field_number(block, 124, 12);
    if (!size) return fail(ErrorKind::kCorrupt, "tar: bad size field at " + where);
    if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K') {
      entry.raw_header.append(take(kBlock));
      std::string data = TRY(read_extension(*size, entry.raw_header));
      if (flag == 'x') {
        TRY(parse_pax(data, pax, where));
      } else if (flag == 'L') {
        long_name = data.substr(0, strnlen(data.c_str(), data.size()));
      } else if (flag == 'K') {
        long_link = data.substr(0, strnlen(data.c_str(), data.size()));
      }
      continue;  // 'g' (global PAX) is passed through: it names no entry
    }

    TarHeader& h = entry.header;
    std::string name = field_string(block, 0, 100);
    if (std::memcmp(block + 257, "ustar", 5) == 0 && block[345] != '\0' &&
        std::memcmp(block + 257, "ustar  ", 8) != 0) {  // POSIX prefix (not old GNU)
      name = field_string(block, 345, 155) + "/" + name;
    }
    h.path = pax.path.value_or(long_name.value_or(name));
    h.linkname = pax.linkpath.value_or(long_link.value_or(field_string(block, 157, 100)));
    h.type = TRY(entry_type(flag, h.path));
    auto mode = field_number(block, 100, 8);
    auto uid = field_number(block, 108, 8);
    auto gid = field_number(block, 116, 8);
    auto mtime = field_number(block, 136, 12);
    auto major = field_number(block, 329, 8);
    auto minor = field_number(block, 337, 8);
    if (!mode || !uid || !gid || !mtime) {
      return fail(ErrorKind::kCorrupt, "tar: bad numeric field in the header of " + h.path);
    }
    h.mode = static_cast<uint32_t>(*mode & 07777);
    h.uid = pax.uid.value_or(*uid);
    h.gid = pax.gid.value_or(*gid);
    h.size = pax.size.value_or(*size);
    h.mtime = pax.mtime.value_or(*mtime);
    h.mtime_nsec = pax.mtime ? pax.mtime_nsec : 0;
    h.devmajor = static_cast<uint32_t>(major.value_or(0));
    h.devminor = static_cast<uint32_t>(minor.value_or(0));
    h.xattrs = std::move(pax.xattrs);
    entry.uname = pax.uname.value_or(field_string(block, 265, 32));
    entry.gname = pax.gname.value_or(field_string(block, 297, 32));
    entry.raw_header.append(take(kBlock));
    current_ = h.path;
    if (h.type == TarEntry::Type::kRegular) {
      data_left_ = h.size;
      padding_left_ = padding_of(h.size);
    } else {
      h.size = 0;
    }
    return entry;
  }
}

Result<std::string_view> TarSplitter::read_data(size_t max) {
  size_t n = static_cast<size_t>(std::min<int64_t>(data_left_, static_cast<int64_t>(max)));
  if (n == 0) return std::string_view();
  TRY(fill(1));
  size_t available = std::min(buf_.size() - pos_, n);
  if (available == 0) return fail(ErrorKind::kCorrupt, "tar: truncated data of " + current_);
  data_left_ -= static_cast<int64_t>(available);
  return take(available);
}

Result<std::string_view> TarSplitter::read_padding() {
  if (data_left_ != 0) {
    return fail(ErrorKind::kInternal, "tar: padding read before the data of " + current_);
  }
  size_t n = padding_left_;
  if (!TRY(fill(n))) return fail(ErrorKind::kCorrupt, "tar: truncated padding of " + current_);
  padding_left_ = 0;
  return take(n);
}

Result<std::string_view> TarSplitter::read_tail() {
  if (!TRY(fill(1))) return std::string_view();
  return take(buf_.size() - pos_);
}

}  // namespace imgbuild::image
