// Published ports: what `-p` and `-P` ask for, in Docker's syntax.
//
//   -p [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]
//   -p 8080:80   -p 127.0.0.1:8080:80   -p 127.0.0.1::80   -p 80   -p 53:53/udp
//   -p 8000-8002:80-82 (ranges of equal length)   -p [::1]:8080:80 (IPv6 host address)
//
// A host port of 0 means "any free port"; the forwarder fills in the port the kernel chose.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::runtime {

enum class Protocol { kTcp, kUdp };

struct PortMapping {
  std::string host_ip;  // empty: every address (0.0.0.0), as Docker
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  Protocol protocol = Protocol::kTcp;

  bool operator==(const PortMapping&) const = default;
};

// One -p value; kInvalidArgument naming the value and what is wrong.
Result<std::vector<PortMapping>> parse_port_spec(std::string_view text);

// An image's ExposedPorts key ("80/tcp", "53/udp", "8080") as a mapping to a free host port.
Result<PortMapping> parse_exposed_port(std::string_view text);

std::string_view protocol_name(Protocol protocol);
Result<Protocol> parse_protocol(std::string_view name);

// "80/tcp"
std::string container_side(const PortMapping& port);
// "0.0.0.0:8080" or "[::1]:8080"
std::string host_side(const PortMapping& port);
// "0.0.0.0:8080->80/tcp", as `docker ps` prints it.
std::string describe(const PortMapping& port);

}  // namespace imgbuild::runtime
