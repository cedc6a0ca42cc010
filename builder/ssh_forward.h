// SSH agent forwarding into RUN steps: `imgbuild build --ssh default|ID=SOCKET|ID=KEY[,KEY...]`
// exposes an agent to `RUN --mount=type=ssh[,id=ID][,target=PATH]`, as BuildKit does.
//
// The step never sees the user's agent socket itself. Each mounted ssh id gets a forwarding socket
// in a private directory (mode, uid and gid from the mount; default 0600 root:root), bound at the
// target (default /run/buildkit/ssh_agent.N), and a thread relays each connection to the agent.
// When --ssh names key files, a private `ssh-agent` holding just those keys is started for the
// build. Nothing of it enters a layer, the cache key or the history; the forwarding stops when
// the step ends.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "base/subprocess.h"

namespace imgbuild::builder {

// One --ssh value: an agent socket or key files, by id.
struct SshSource {
  std::vector<std::string> paths;  // one agent socket, or private key files
};

// "default", "ID" (both: the agent at $SSH_AUTH_SOCK, passed as auth_sock), "ID=SOCKET",
// "ID=KEY[,KEY...]". kInvalidArgument naming the value when the id or a path is missing.
Result<std::pair<std::string, SshSource>> parse_ssh_flag(std::string_view text,
                                                         const char* auth_sock);

// An agent the steps of one build can reach: the user's socket, or a private ssh-agent loaded
// with the given keys (stopped on destruction).
class SshAgent {
 public:
  static Result<std::shared_ptr<SshAgent>> open(const std::string& id, const SshSource& source);
  ~SshAgent();
  SshAgent(const SshAgent&) = delete;
  SshAgent& operator=(const SshAgent&) = delete;

  const std::string& socket_path() const { return socket_; }

 private:
  SshAgent() = default;
  std::string socket_;
  std::optional<fs::TempDir> private_dir_;  // the private agent's directory, when keys were given
  Child private_agent_;
};

// A listening socket for one RUN mount that relays every connection to the agent, until
// destruction.
class SshForward {
 public:
  static Result<std::unique_ptr<SshForward>> start(std::shared_ptr<SshAgent> agent, unsigned mode,
                                                   unsigned uid, unsigned gid);
  ~SshForward();
  SshForward(const SshForward&) = delete;
  SshForward& operator=(const SshForward&) = delete;

  // The socket to bind at the mount target.
  const std::string& socket_path() const;

  struct State;

 private:
  explicit SshForward(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace imgbuild::builder
