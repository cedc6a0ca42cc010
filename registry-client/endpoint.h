// Where a registry named in a reference lives, and whether it may be spoken to without TLS.
// Docker Hub ("docker.io") is served from registry-1.docker.io and keyed in config.json as
// "https://index.docker.io/v1/". Plain HTTP is allowed only for loopback (localhost,
// 127.0.0.0/8, ::1) and hosts the user marked insecure (--insecure-registry HOST[:PORT] or
// IMGBUILD_INSECURE_REGISTRIES, comma or space separated); a bare host matches every port.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imgbuild::registry {

// "docker.io" -> "registry-1.docker.io"; everything else unchanged.
std::string api_host(std::string_view registry);
// The key credentials are stored under in config.json: "https://index.docker.io/v1/" for Docker
// Hub, otherwise the registry host[:port].
std::string credential_key(std::string_view registry);
// Reduces a config.json key or a user-typed registry ("https://host:5000/v1/", "HOST:5000") to
// "host:5000"; Docker Hub's spellings all become "docker.io".
std::string normalize_registry(std::string_view text);

// Splits "host:port", "[::1]:5000", "::1" into host and port (port empty when absent).
void split_host_port(std::string_view hostport, std::string* host, std::string* port);
bool is_loopback_host(std::string_view host);
// "host:port" of an absolute URL ("https://host:port/v2/" -> "host:port"); "" when not absolute.
std::string url_authority(std::string_view url);

// True when plain HTTP (and unverified TLS) is acceptable for registry (host[:port]).
bool allows_insecure(std::string_view registry, const std::vector<std::string>& insecure);
// The entries of IMGBUILD_INSECURE_REGISTRIES.
std::vector<std::string> insecure_registries_from_env();

}  // namespace imgbuild::registry
