#include "image/platform.h"

#include <sys/utsname.h>

#include "image/json_util.h"

namespace imgbuild::image {
namespace {

// Maps kernel/Debian architecture names onto GOARCH (+ variant), the names images use.
void normalise_arch(std::string& arch, std::string& variant) {
  if (arch == "x86_64" || arch == "x86-64") {
    arch = "amd64";
  } else if (arch == "aarch64") {
    arch = "arm64";
  } else if (arch == "armhf" || arch == "armv7l" || arch == "armv7") {
    arch = "arm";
    if (variant.empty()) variant = "v7";
  } else if (arch == "armel" || arch == "armv6l") {
    arch = "arm";
    if (variant.empty()) variant = "v6";
  } else if (arch == "i386" || arch == "i686" || arch == "x86") {
    arch = "386";
  } else if (arch == "ppc64el") {
    arch = "ppc64le";
  }
  if (arch == "arm64" && variant == "v8") variant.clear();
}

bool valid_part(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || (c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<Platform> Platform::parse(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.emplace_back(
        text.substr(start, slash == std::string_view::npos ? text.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  auto bad = [&](std::string_view why) {
    return fail(ErrorKind::kInvalidArgument,
                "invalid platform \"" + std::string(text) + "\": " + std::string(why));
  };
  if (parts.size() < 2 || parts.size() > 3) return bad("expected os/arch[/variant]");
  for (const auto& p : parts) {
    if (!valid_part(p)) return bad("empty or malformed component");
  }
  Platform p;
  p.os = parts[0];
  for (auto& c : p.os) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  p.architecture = parts[1];
  for (auto& c : p.architecture) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (parts.size() == 3) p.variant = parts[2];
  normalise_arch(p.architecture, p.variant);
  return p;
}

Platform Platform::host() {
  Platform p;
  p.os = "linux";
  struct utsname u {};
  if (::uname(&u) == 0) {
    p.architecture = u.machine;
  } else {
    p.architecture = "amd64";
  }
  normalise_arch(p.architecture, p.variant);
  return p;
}

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

bool Platform::matches(const Platform& wanted) const {
  if (os != wanted.os || architecture != wanted.architecture) return false;
  auto norm = [&](const std::string& v) {
    return (architecture == "arm64" && v == "v8") ? std::string() : v;
  };
  std::string a = norm(variant), b = norm(wanted.variant);
  return a.empty() || b.empty() || a == b;
}

nlohmann::json Platform::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  j["architecture"] = architecture;
  j["os"] = os;
  if (!variant.empty()) j["variant"] = variant;
  if (!os_version.empty()) j["os.version"] = os_version;
  if (!os_features.empty()) j["os.features"] = os_features;
  return j;
}

Result<Platform> Platform::from_json(const nlohmann::json& j) {
  constexpr std::string_view what = "platform";
  if (!j.is_object()) return json_util::corrupt(what, "must be an object");
  Platform p;
  TRY(json_util::get_string(j, "architecture", p.architecture, what));
  TRY(json_util::get_string(j, "os", p.os, what));
  TRY(json_util::get_string(j, "variant", p.variant, what));
  TRY(json_util::get_string(j, "os.version", p.os_version, what));
  TRY(json_util::get_string_list(j, "os.features", p.os_features, what));
  if (p.architecture.empty() || p.os.empty()) {
    return json_util::corrupt(what, "\"os\" and \"architecture\" are required");
  }
  return p;
}

}  // namespace imgbuild::image
