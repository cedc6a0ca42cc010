#include "builder/dockerfile/port_spec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace imgbuild::builder::dockerfile {
namespace {

struct PortRange {
  uint32_t first = 0;
  uint32_t last = 0;
};

// strconv.ParseUint(s, 10, 16): decimal digits only, at most 65535.
bool parse_port(std::string_view s, uint32_t& out) {
  if (s.empty()) return false;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > 65535) return false;
  out = v;
  return true;
}

// nat.ParsePortRange: "N" or "N-M" with M >= N.
bool parse_range(std::string_view s, PortRange& out) {
  size_t dash = s.find('-');
  if (dash == std::string_view::npos) {
    if (!parse_port(s, out.first)) return false;
    out.last = out.first;
    return true;
  }
  return parse_port(s.substr(0, dash), out.first) && parse_port(s.substr(dash + 1), out.last) &&
         out.last >= out.first;
}

bool valid_ip(std::string ip) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  unsigned char buf[16];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Status parse_port_spec(std::string_view spec, std::vector<std::string>& out) {
  // splitParts: the container port is after the last ':', the host port before it, the IP (which
  // may itself hold ':' for IPv6) before that.
  std::string_view ip, host, container = spec;
  if (size_t last = spec.rfind(':'); last != std::string_view::npos) {
    container = spec.substr(last + 1);
    std::string_view rest = spec.substr(0, last);
    if (size_t prev = rest.rfind(':'); prev != std::string_view::npos) {
      ip = rest.substr(0, prev);
      host = rest.substr(prev + 1);
    } else {
      host = rest;
    }
  }
  // SplitProtoPort: "80" -> tcp, "80/" -> tcp, "/udp" -> no port at all.
  std::string_view proto = "tcp";
  if (size_t slash = container.find('/'); slash != std::string_view::npos) {
    std::string_view p = container.substr(slash + 1);
    if (size_t more = p.find('/'); more != std::string_view::npos) p = p.substr(0, more);
    container = container.substr(0, slash);
    if (!p.empty()) proto = p;
  }
  if (!ip.empty() && !valid_ip(std::string(ip))) {
    return fail(ErrorKind::kParse, "Invalid ip address: " + std::string(ip));
  }
  if (container.empty()) {
    return fail(ErrorKind::kParse, "No port specified: " + std::string(spec) + "<empty>");
  }
  PortRange ports;
  if (!parse_range(container, ports)) {
    return fail(ErrorKind::kParse, "Invalid containerPort: " + std::string(container));
  }
  if (!host.empty()) {
    PortRange hosts;
    if (!parse_range(host, hosts)) {
      return fail(ErrorKind::kParse, "Invalid hostPort: " + std::string(host));
    }
    if (ports.last != ports.first && hosts.last - hosts.first != ports.last - ports.first) {
      return fail(ErrorKind::kParse, "Invalid ranges specified for container and host Ports: " +
                                         std::string(container) + " and " + std::string(host));
    }
  }
  std::string proto_lower = lower(proto);
  if (proto_lower != "tcp" && proto_lower != "udp" && proto_lower != "sctp") {
    return fail(ErrorKind::kParse, "Invalid proto: " + std::string(proto));
  }
  for (uint32_t port = ports.first; port <= ports.last; ++port) {
    out.push_back(std::to_string(port) + "/" + proto_lower);
  }
  return {};
}

}  // namespace imgbuild::builder::dockerfile
