// The files bound onto a container's /etc/hosts, /etc/resolv.conf and /etc/hostname, written
// into a directory outside the root (so they never land in an image layer).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "runtime/container.h"

namespace imgbuild::runtime {

// Writes dir/hosts, dir/resolv.conf and dir/hostname. With kHost the host's /etc/hosts is
// copied; with kNone the hosts file has the loopback entries and the hostname. resolv.conf is the
// host's (systemd-resolved's upstream file when the host's points at the 127.0.0.53 stub).
// extra_hosts ("HOST:IP", Docker's --add-host) are appended to hosts as "IP\tHOST".
Status write_etc_files(const std::string& dir, const std::string& hostname, NetworkMode network,
                       const std::vector<std::string>& extra_hosts = {});

// Docker's --add-host value (`run` and `build`): "HOST:IP" or "HOST=IP", IP v4 or v6, returned as
// "HOST:IP". kInvalidArgument `--add-host "V": expected HOST:IP with a valid IP address`;
// kUnsupported for "host-gateway" (containers here have no bridge whose gateway is the host).
Result<std::string> parse_extra_host(std::string_view entry);

}  // namespace imgbuild::runtime
