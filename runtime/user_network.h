// Outbound network access for a container in its own network namespace, without touching the
// host's network configuration: a user-mode TCP/IP stack (Debian's slirp4netns, as rootless
// BuildKit, Docker and podman use) attached to a tap device in the container's namespace.
//
// Inside: tap0 10.0.2.100/24, default route via 10.0.2.2, DNS forwarder at 10.0.2.3, MTU 65520.
// The host's loopback is not reachable (--disable-host-loopback): a build step cannot talk to a
// registry, database or Docker socket that listens on the host's 127.0.0.1. Outbound connections
// leave from the slirp4netns process, i.e. from the host's own addresses.
//
// Lifetime: start() returns once slirp4netns has configured the namespace (its ready fd). The
// process exits when the UserNetwork is destroyed (reaped by a background thread), and by itself
// when the process that started it dies (its exit fd closes), so a killed imgbuild leaves no
// slirp4netns behind. Errors: kNotFound when slirp4netns is not installed; kRuntime with its output
// otherwise.
#pragma once

#include <sys/types.h>

#include "base/error.h"
#include "base/subprocess.h"
#include "base/unique_fd.h"

namespace imgbuild::runtime {

// The container's resolver: slirp4netns forwards DNS queries sent here to the host's resolver.
inline constexpr const char* kUserNetworkDns = "10.0.2.3";

class UserNetwork {
 public:
  // Configures the network namespace of process pid (the container's pid 1).
  static Result<UserNetwork> start(pid_t pid);

  UserNetwork(UserNetwork&&) noexcept = default;
  UserNetwork& operator=(UserNetwork&&) noexcept = default;
  ~UserNetwork();  // closes the exit fd (slirp4netns exits) and reaps it in the background

 private:
  UserNetwork(Child child, UniqueFd exit_w)
      : child_(std::move(child)), exit_w_(std::move(exit_w)) {}
  Child child_;
  UniqueFd exit_w_;
};

}  // namespace imgbuild::runtime
