#include "runtime/port_mapping.h"

#include <arpa/inet.h>

#include <charconv>

namespace imgbuild::runtime {
namespace {

struct Range {
  uint32_t first = 0, last = 0;
  uint32_t size() const { return last - first + 1; }
};

Result<uint32_t> parse_port(std::string_view text, std::string_view spec, std::string_view what) {
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n == 0 ||
      n > 65535) {
    return fail(ErrorKind::kInvalidArgument, "invalid port specification: \"" + std::string(spec) +
                                                 "\": invalid " + std::string(what) + " \"" +
                                                 std::string(text) + "\" (1-65535)");
  }
  return n;
}

Result<Range> parse_range(std::string_view text, std::string_view spec, std::string_view what) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    uint32_t p = TRY(parse_port(text, spec, what));
    return Range{p, p};
  }
  Range r{TRY(parse_port(text.substr(0, dash), spec, what)),
          TRY(parse_port(text.substr(dash + 1), spec, what))};
  if (r.last < r.first) {
    return fail(ErrorKind::kInvalidArgument, "invalid port specification: \"" + std::string(spec) +
                                                 "\": invalid " + std::string(what) + " range \"" +
                                                 std::string(text) + "\"");
  }
  return r;
}

bool valid_ip(const std::string& ip) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, ip.c_str(), buf) == 1 || ::inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

}  // namespace

std::string_view protocol_name(Protocol protocol) {
  return protocol == Protocol::kUdp ? "udp" : "tcp";
}

Result<Protocol> parse_protocol(std::string_view name) {
  if (name == "tcp") return Protocol::kTcp;
  if (name == "udp") return Protocol::kUdp;
  return fail(ErrorKind::kInvalidArgument,
              "invalid protocol \"" + std::string(name) + "\" (supported: tcp, udp)");
}

Result<std::vector<PortMapping>> parse_port_spec(std::string_view spec) {
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::kInvalidArgument,
                "invalid port specification: \"" + std::string(spec) + "\": " + why);
  };
  std::string_view rest = spec;
  Protocol protocol = Protocol::kTcp;
  if (size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
    auto p = parse_protocol(rest.substr(slash + 1));
    if (!p) return bad(p.error().message());
    protocol = *p;
    rest = rest.substr(0, slash);
  }

  std::string ip;
  std::vector<std::string_view> parts;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return bad("expected [IPv6]:HOST_PORT:CONTAINER_PORT");
    }
    ip = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 2);
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return bad("expected [IPv6]:HOST_PORT:CONTAINER_PORT");
    parts = {std::string_view(), rest.substr(0, colon), rest.substr(colon + 1)};
  } else {
    size_t start = 0;
    for (;;) {
      size_t colon = rest.find(':', start);
      parts.push_back(rest.substr(start, colon == std::string_view::npos ? colon : colon - start));
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
    if (parts.size() > 3) return bad("too many colons (IPv6 host addresses go in brackets)");
    if (parts.size() == 3) ip = std::string(parts[0]);
  }
  if (parts.size() == 3 && !ip.empty() && !valid_ip(ip)) return bad("invalid IP address " + ip);
  if (parts.size() == 3 && ip.empty() && parts[0].data() != nullptr) {
    return bad("empty IP address");
  }

  std::string_view host_text = parts.size() >= 2 ? parts[parts.size() - 2] : std::string_view();
  std::string_view container_text = parts.back();
  if (parts.size() == 2 && host_text.empty()) return bad("empty host port");
  Range container = TRY(parse_range(container_text, spec, "container port"));
  Range host{0, 0};
  if (!host_text.empty()) {
    host = TRY(parse_range(host_text, spec, "host port"));
    if (host.size() != container.size()) {
      return bad("the host and container port ranges must have the same length");
    }
  }

  std::vector<PortMapping> out;
  for (uint32_t i = 0; i < container.size(); ++i) {
    PortMapping m;
    m.host_ip = ip;
    m.host_port = static_cast<uint16_t>(host_text.empty() ? 0 : host.first + i);
    m.container_port = static_cast<uint16_t>(container.first + i);
    m.protocol = protocol;
    out.push_back(std::move(m));
  }
  return out;
}

Result<PortMapping> parse_exposed_port(std::string_view text) {
  std::string_view port = text;
  Protocol protocol = Protocol::kTcp;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    port = text.substr(0, slash);
    protocol = TRY_CTX(parse_protocol(text.substr(slash + 1)),
                       "exposed port \"" + std::string(text) + "\"");
  }
  PortMapping m;
  m.container_port = static_cast<uint16_t>(TRY(parse_port(port, text, "exposed port")));
  m.protocol = protocol;
  return m;
}

std::string container_side(const PortMapping& port) {
  return std::to_string(port.container_port) + "/" + std::string(protocol_name(port.protocol));
}

std::string host_side(const PortMapping& port) {
  std::string ip = port.host_ip.empty() ? "0.0.0.0" : port.host_ip;
  if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
  return ip + ":" + std::to_string(port.host_port);
}

std::string describe(const PortMapping& port) {
  return host_side(port) + "->" + container_side(port);
}

}  // namespace imgbuild::runtime
