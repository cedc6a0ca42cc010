#include "builder/chown_spec.h"

#include <optional>
#include <string>
#include <vector>

#include "runtime/user.h"

namespace imgbuild::builder {
namespace {

// A numeric id of up to 32 bits (the range is checked on the result: resolve_chown).
std::optional<uint32_t> parse_id(std::string_view s) {
  auto v = runtime::parse_numeric_id(s);
  if (!v || *v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

// Fields of the line in a passwd/group file whose first field is `name`.
std::optional<std::vector<std::string>> find_entry(const std::string& file, std::string_view name) {
  size_t start = 0;
  while (start < file.size()) {
    size_t end = file.find('\n', start);
    if (end == std::string::npos) end = file.size();
    std::string_view line(file.data() + start, end - start);
    start = end + 1;
    std::vector<std::string> fields;
    size_t f = 0;
    while (true) {
      size_t colon = line.find(':', f);
      fields.emplace_back(line.substr(f, colon == std::string_view::npos ? line.npos : colon - f));
      if (colon == std::string_view::npos) break;
      f = colon + 1;
    }
    if (fields.size() >= 3 && fields[0] == name) return fields;
  }
  return std::nullopt;
}

Result<Owner> resolve_owner(std::string_view spec, const LayerView& image);

}  // namespace

Result<Owner> resolve_chown(std::string_view spec, const LayerView& image) {
  if (auto id = runtime::parse_numeric_id(spec.substr(0, spec.find(':')))) {
    TRY(runtime::check_id_range(*id, "--chown " + std::string(spec)));
  }
  if (size_t colon = spec.find(':'); colon != std::string_view::npos) {
    if (auto id = runtime::parse_numeric_id(spec.substr(colon + 1))) {
      TRY(runtime::check_id_range(*id, "--chown " + std::string(spec)));
    }
  }
  Owner owner = TRY(resolve_owner(spec, image));
  TRY(runtime::check_id_range(owner.uid, "--chown " + std::string(spec)));
  TRY(runtime::check_id_range(owner.gid, "--chown " + std::string(spec)));
  return owner;
}

namespace {

Result<Owner> resolve_owner(std::string_view spec, const LayerView& image) {
  if (spec.empty()) return fail(ErrorKind::kInvalidArgument, "--chown: empty user");
  size_t colon = spec.find(':');
  std::string_view user = spec.substr(0, colon);
  std::string_view group =
      colon == std::string_view::npos ? std::string_view() : spec.substr(colon + 1);
  Owner owner;
  std::optional<gid_t> primary;
  if (auto id = parse_id(user)) {
    owner.uid = *id;
  } else {
    auto passwd = TRY(image.read_file("/etc/passwd"));
    auto entry = passwd ? find_entry(*passwd, user) : std::nullopt;
    if (!entry || !parse_id((*entry)[2])) {
      return fail(ErrorKind::kInvalidArgument, "--chown: unable to find user " + std::string(user) +
                                                   ": no matching entries in "
                                                   "passwd file");
    }
    owner.uid = *parse_id((*entry)[2]);
    if (entry->size() >= 4) {
      if (auto g = parse_id((*entry)[3])) primary = *g;
    }
  }
  if (colon == std::string_view::npos) {
    owner.gid = primary ? *primary : owner.uid;
    return owner;
  }
  if (auto id = parse_id(group)) {
    owner.gid = *id;
    return owner;
  }
  auto groups = TRY(image.read_file("/etc/group"));
  auto entry = groups ? find_entry(*groups, group) : std::nullopt;
  if (!entry || !parse_id((*entry)[2])) {
    return fail(ErrorKind::kInvalidArgument, "--chown: unable to find group " + std::string(group) +
                                                 ": no matching entries in group file");
  }
  owner.gid = *parse_id((*entry)[2]);
  return owner;
}

}  // namespace

}  // namespace imgbuild::builder
