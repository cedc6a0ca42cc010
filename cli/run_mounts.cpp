#include "cli/run_mounts.h"

#include <vector>

#include "base/fs.h"
#include "cli/container_state.h"
#include "containers/volumes.h"

namespace imgbuild::cli {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(sep, i);
    if (j == std::string::npos) j = text.size();
    parts.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

const char* type_name(MountRequest::Type type) {
  switch (type) {
    case MountRequest::Type::kBind: return "bind";
    case MountRequest::Type::kVolume: return "volume";
    case MountRequest::Type::kTmpfs: return "tmpfs";
  }
  return "bind";
}

// Docker's checks of a mount once parsed (daemon/volume/mounts/linux_parser.go).
Status check_request(const MountRequest& m) {
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::kInvalidArgument,
                std::string("invalid mount config for type \"") + type_name(m.type) + "\": " + why);
  };
  if (m.target.empty()) return bad("field Target must not be empty");
  if (m.target[0] != '/')
    return bad("invalid mount path: '" + m.target + "' mount path must be absolute");
  if (m.type == MountRequest::Type::kBind) {
    if (m.source.empty()) return bad("field Source must not be empty");
    if (m.source[0] != '/')
      return bad("invalid mount path: '" + m.source + "' mount path must be absolute");
    if (!fs::exists(m.source)) return bad("bind source path does not exist: " + m.source);
  } else if (m.type == MountRequest::Type::kVolume) {
    if (!m.source.empty()) TRY(containers::check_volume_name(m.source));
  } else if (!m.source.empty()) {
    return bad("field Source must not be specified");
  }
  return {};
}

// "ro", "readonly=true", "readonly=0"...: Go's strconv.ParseBool, a bare key meaning true.
Result<bool> parse_bool(const std::string& key, const std::string& value, bool has_value,
                        const std::string& spec) {
  if (!has_value) return true;
  if (value == "1" || value == "t" || value == "T" || value == "true" || value == "TRUE" ||
      value == "True") {
    return true;
  }
  if (value == "0" || value == "f" || value == "F" || value == "false" || value == "FALSE" ||
      value == "False") {
    return false;
  }
  return fail(ErrorKind::kInvalidArgument, "invalid argument \"" + spec +
                                               "\" for \"--mount\" flag: invalid value for " + key +
                                               ": " + value);
}

}  // namespace

Result<MountRequest> parse_volume_flag(const std::string& spec) {
  auto parts = split(spec, ':');
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::kInvalidArgument, "invalid volume specification: '" + spec + "'" + why);
  };
  MountRequest m;
  m.type = MountRequest::Type::kVolume;
  std::string mode;
  if (parts.size() == 1) {
    m.target = parts[0];  // an anonymous volume
  } else if (parts.size() == 2 || parts.size() == 3) {
    m.source = parts[0];
    m.target = parts[1];
    if (parts.size() == 3) mode = parts[2];
  } else {
    return bad("");
  }
  if (!m.source.empty() && m.source[0] == '/') m.type = MountRequest::Type::kBind;
  if (m.target.empty() || m.target[0] != '/') {
    return bad(": invalid mount config for type \"" + std::string(type_name(m.type)) +
               "\": invalid mount path: '" + m.target + "' mount path must be absolute");
  }
  if (parts.size() >= 2 && m.source.empty()) return bad("");
  for (const auto& opt : split(mode, ',')) {
    if (opt == "ro") {
      m.read_only = true;
    } else if (opt == "nocopy" && m.type == MountRequest::Type::kVolume) {
      m.no_copy = true;
    } else if (opt != "rw" && !opt.empty()) {
      return bad(": unknown option " + opt + " (supported: ro, rw, nocopy)");
    }
  }
  if (m.type == MountRequest::Type::kBind && !fs::exists(m.source)) {
    return bad(": bind source path does not exist: " + m.source);
  }
  if (m.type == MountRequest::Type::kVolume && !m.source.empty()) {
    TRY(containers::check_volume_name(m.source));
  }
  return m;
}

Result<MountRequest> parse_mount_flag(const std::string& spec) {
  auto flag_error = [&](const std::string& why) {
    return fail(ErrorKind::kInvalidArgument,
                "invalid argument \"" + spec + "\" for \"--mount\" flag: " + why);
  };
  MountRequest m;
  m.type = MountRequest::Type::kVolume;  // Docker's default type
  bool volume_only = false, tmpfs_only = false;
  for (const auto& field : split(spec, ',')) {
    size_t eq = field.find('=');
    std::string key = field.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : field.substr(eq + 1);
    bool has_value = eq != std::string::npos;
    if (key == "readonly" || key == "ro") {
      m.read_only = TRY(parse_bool(key, value, has_value, spec));
      continue;
    }
    if (key == "volume-nocopy") {
      m.no_copy = TRY(parse_bool(key, value, has_value, spec));
      volume_only = true;
      continue;
    }
    if (!has_value) return flag_error("invalid field '" + field + "' must be a key=value pair");
    if (key == "type") {
      if (value == "bind") {
        m.type = MountRequest::Type::kBind;
      } else if (value == "volume") {
        m.type = MountRequest::Type::kVolume;
      } else if (value == "tmpfs") {
        m.type = MountRequest::Type::kTmpfs;
      } else {
        return flag_error("invalid type '" + value + "' (supported: bind, volume, tmpfs)");
      }
    } else if (key == "source" || key == "src") {
      m.source = value;
    } else if (key == "target" || key == "dst" || key == "destination") {
      m.target = value;
    } else if (key == "tmpfs-size") {
      auto bytes = parse_size(value);
      if (!bytes || *bytes < 0) return flag_error("invalid value for tmpfs-size: " + value);
      m.tmpfs_size = static_cast<uint64_t>(*bytes);
      tmpfs_only = true;
    } else {
      return flag_error("unexpected key '" + key + "' in '" + field + "'");
    }
  }
  if (volume_only && m.type != MountRequest::Type::kVolume) {
    return flag_error("cannot mix 'volume-*' options with mount type '" +
                      std::string(type_name(m.type)) + "'");
  }
  if (tmpfs_only && m.type != MountRequest::Type::kTmpfs) {
    return flag_error("cannot mix 'tmpfs-*' options with mount type '" +
                      std::string(type_name(m.type)) + "'");
  }
  TRY(check_request(m));
  return m;
}

Result<MountRequest> parse_tmpfs_flag(const std::string& spec) {
  MountRequest m;
  m.type = MountRequest::Type::kTmpfs;
  size_t colon = spec.find(':');
  m.target = spec.substr(0, colon);
  if (m.target.empty() || m.target[0] != '/') {
    return fail(ErrorKind::kInvalidArgument,
                "invalid --tmpfs \"" + spec + "\": the path must be absolute");
  }
  std::string opts = colon == std::string::npos ? "" : spec.substr(colon + 1);
  for (const auto& opt : split(opts, ',')) {
    // Docker's defaults (noexec, nosuid, nodev) are accepted; anything else is refused rather
    // than ignored.
    if (opt.starts_with("size=")) {
      m.tmpfs_size = static_cast<uint64_t>(TRY(parse_size(opt.substr(5))));
    } else if (opt != "rw" && opt != "noexec" && opt != "nosuid" && opt != "nodev" &&
               !opt.empty()) {
      return fail(ErrorKind::kInvalidArgument, "invalid --tmpfs \"" + spec + "\": option " + opt +
                                                   " is not supported (size=, rw)");
    }
  }
  return m;
}

}  // namespace imgbuild::cli
