// Published ports: a userspace proxy from host ports into a container's network namespace.
//
// The container has its own network namespace with only loopback (NetworkMode::kNone). For each
// published port the forwarder listens on the host (TCP) or binds a host socket (UDP); per TCP
// connection (or per UDP client address) it opens a socket inside the container's namespace and
// connects it to 127.0.0.1:CONTAINER_PORT there. Nothing outside loopback is needed: no bridge,
// no NAT, no veth. This is the shape of Docker's userland proxy and rootlesskit's port driver.
//
// How it enters the namespace: the forwarder's thread calls setns(CLONE_NEWNET) on the
// container's /proc/PID/ns/net; sockets belong to the namespace of the thread that creates them,
// and threads it starts inherit its namespace. Listeners were created before, in the host's
// namespace, and stay there. The rest of the process is not affected.
//
// Data path: TCP bytes move socket -> pipe -> socket with splice(2), never through user memory;
// each direction has its own thread, blocking, so half-closes (shutdown(SHUT_WR)) pass through.
// UDP datagrams are relayed with recvfrom/send per client flow; a flow idle for 90 s is closed.
//
// Lifetime: bind() before the container starts (so a port in use is an error before anything
// runs), start() once the container's pid 1 exists, stop() when it has exited (closes listeners,
// every connection and flow, joins every thread; the host ports are free when it returns).
#pragma once

#include <sys/types.h>

#include <memory>
#include <vector>

#include "base/error.h"
#include "runtime/port_mapping.h"

namespace imgbuild::runtime {

class PortForwarder {
 public:
  // Binds every host port. Mappings with host_port 0 get the port the kernel picked. A port in
  // use is kAlreadyExists "... port is already allocated"; nothing stays bound on error.
  static Result<std::unique_ptr<PortForwarder>> bind(std::vector<PortMapping>& ports);

  // Starts forwarding into the network namespace of process pid (the container's pid 1).
  Status start(pid_t pid);

  // Closes every listener, connection and flow and joins the threads. Idempotent.
  void stop();

  ~PortForwarder();
  PortForwarder(const PortForwarder&) = delete;
  PortForwarder& operator=(const PortForwarder&) = delete;

  struct Impl;

 private:
  explicit PortForwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace imgbuild::runtime
