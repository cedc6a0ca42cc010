// EXPOSE arguments, validated and normalised as Docker's go-connections nat.ParsePortSpecs does
// (which BuildKit's EXPOSE uses): "[ip:][hostPort:]containerPort[-end][/proto]". A container port
// is 0-65535, a range "N-M" (N <= M) stands for every port in it, the protocol is tcp, udp or
// sctp (any case; tcp when omitted). Each port becomes one config entry "PORT/proto", the number
// printed without leading zeros. Errors use Docker's words ("Invalid containerPort: 99999999").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::builder::dockerfile {

// Appends the config entries ("80/tcp", ...) that `spec` stands for to `out`.
Status parse_port_spec(std::string_view spec, std::vector<std::string>& out);

}  // namespace imgbuild::builder::dockerfile
