// Forwarding the signals a user sends to `imgbuild run` (SIGINT, SIGTERM, SIGHUP, SIGQUIT,
// SIGUSR1, SIGUSR2) to the running containers, and noticing SIGWINCH.
//
// While at least one SignalForwarder exists, process-wide handlers write the signal number into
// a self-pipe (async-signal-safe); the previous dispositions are restored when the last one goes.
// Whoever reads a signal from the pipe (read_pending) forwards it to every registered pid, so
// concurrent containers in one process all get it. Thread-safe.
#pragma once

#include <sys/types.h>

#include <vector>

namespace imgbuild::runtime {

class SignalForwarder {
 public:
  explicit SignalForwarder(pid_t pid);
  ~SignalForwarder();
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

  // Readable when signals are pending.
  int fd() const;
  // Reads pending signals, forwards the forwardable ones to every registered container and
  // returns all of them (SIGWINCH included, which is not forwarded).
  std::vector<int> read_pending();

 private:
  pid_t pid_;
};

}  // namespace imgbuild::runtime
