#include "builder/chown_spec.h"

#include <optional>
#include <string>

#include "runtime/passwd_file.h"
#include "runtime/user.h"

namespace imgbuild::builder {
namespace {

// Ids are parsed as 32 bits; the range is checked on the result (resolve_chown).
using runtime::parse_id;

template <class Entry>
std::optional<Entry> find_named(const std::vector<Entry>& entries, std::string_view name) {
  for (const auto& e : entries) {
    if (e.name == name) return e;
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
    auto entry = passwd ? find_named(runtime::parse_passwd(*passwd), user) : std::nullopt;
    if (!entry) {
      return fail(ErrorKind::kInvalidArgument, "--chown: unable to find user " + std::string(user) +
                                                   ": no matching entries in "
                                                   "passwd file");
    }
    owner.uid = entry->uid;
    primary = entry->gid;
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
  auto entry = groups ? find_named(runtime::parse_group(*groups), group) : std::nullopt;
  if (!entry) {
    return fail(ErrorKind::kInvalidArgument, "--chown: unable to find group " + std::string(group) +
                                                 ": no matching entries in group file");
  }
  owner.gid = entry->gid;
  return owner;
}

}  // namespace

}  // namespace imgbuild::builder
