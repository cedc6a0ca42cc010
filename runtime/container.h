// runtime: runs one process in a container on an already prepared root directory.
//
// The root is any directory (a plain tree in tests, an imgfs mount for builds and `imgbuild run`).
// Container::start clones the process into new mount, pid, uts and ipc namespaces (and a new
// network namespace unless NetworkMode::kHost), builds the container's view inside the child's
// mount namespace (bind of the root onto itself, /proc, a tmpfs /dev with device nodes, devpts,
// /dev/shm, /dev/mqueue, /sys read-only, the bind mounts of the spec, /etc/hosts, /etc/resolv.conf
// and /etc/hostname), pivot_roots into it through fds, masks Docker's masked paths, drops to
// Docker's 14 default capabilities with no_new_privs, switches user and execs. Every mount target
// is resolved inside the root (openat2 RESOLVE_IN_ROOT), so a hostile image whose /dev, /proc,
// /etc/hosts or a volume target is a symlink cannot make a mount land outside the root.
//
// Traces in the root: the runtime writes nothing into the root except the mount targets that do
// not exist yet (e.g. /etc/hosts in an image without one, a volume target directory). Those stubs
// are recorded when created and removed again when the container ends (wait(), or destruction),
// if they are still empty; so an imgfs upper used for a build step ends up holding exactly what
// the command wrote. The files bound onto /etc/hosts, /etc/resolv.conf and /etc/hostname live
// in ProcessSpec::etc_dir (outside the root), never in the root. The working directory is
// created when missing (as Docker does) and is kept.
//
// Resource limits go into a fresh cgroup per container (v1 hierarchies under this process's own
// cgroup, or v2 under <cgroup2 mount>/imgbuild), created before the process runs and removed when
// it has ended.
//
// Lifetime: the container's pid 1 gets SIGKILL if the thread that started it exits (a dead
// imgbuild leaves no container running on a dead mount), so keep that thread alive while the
// container runs.
//
// Thread safety: a Container is owned by one thread at a time. Starting containers concurrently
// from several threads is fine. The code between clone() and exec() only makes syscalls on data
// prepared beforehand and leaves with _exit, so it is safe in a multithreaded process (e.g. one
// serving the imgfs FUSE session of the root).
//
// Errors from start(): kind kRuntime when setting up the container failed (message names the
// syscall and its subject, e.g. "mount proc on /proc: EPERM (Operation not permitted)"); kNotFound
// when the executable does not exist; kPermission when it exists but cannot be executed.
// exit_code_for_start_error() maps them to Docker's 125/127/126.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "runtime/rlimits.h"

namespace imgbuild::runtime {

struct BindMount {
  std::string source;  // host path (followed as the host sees it), or relative to root
  std::string target;  // path inside the container, resolved inside the root
  bool read_only = false;
  // Non-empty: source is resolved inside this directory (openat2 RESOLVE_IN_ROOT), so symlinks in
  // an image, stage or build context never lead out of it (runtime/bind_source.h).
  std::string root;
};

// A new, empty tmpfs at target (nosuid, as BuildKit mounts RUN --mount=type=tmpfs); its contents
// go with the container.
struct TmpfsMount {
  std::string target;       // path inside the container, resolved (and created) inside the root
  uint64_t size_bytes = 0;  // the tmpfs size= option; 0: the kernel's default (half of RAM)
};

enum class NetworkMode {
  kNone,  // own network namespace with only the loopback interface, up
  kHost,  // the host's network namespace (and the host's hostname unless one is given)
  // Own network namespace with outbound access through a user-mode stack (slirp4netns,
  // runtime/user_network.h); the host's loopback is unreachable. BuildKit's default for RUN.
  kPrivate,
};

// "none", "host", "bridge" (kPrivate: Docker's name for a container's own network with outbound
// access; BuildKit calls it "default").
const char* network_mode_name(NetworkMode mode);
// Accepts those names, plus "default" and "slirp4netns" for kPrivate.
std::optional<NetworkMode> parse_network_mode(std::string_view name);

struct Resources {
  std::optional<int64_t> memory_bytes;  // memory limit; swap limited to the same amount again
  std::optional<int64_t> pids_limit;    // pids.max
  std::optional<double> cpus;           // CFS quota: cpus * 100ms per 100ms period
};

struct ProcessSpec {
  std::vector<std::string> args;  // args[0] is searched in the PATH of env when it has no '/'
  std::vector<std::string> env;   // "K=V", exactly what the process gets
  std::string cwd = "/";          // created (root-owned, 0755) when missing
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string hostname;  // empty: the first 12 characters of id (the host's name with kHost)
  NetworkMode network = NetworkMode::kNone;
  std::vector<BindMount> mounts;
  std::vector<TmpfsMount> tmpfs_mounts;  // mounted after (so inside) the bind mounts
  bool read_only_rootfs = false;
  // Docker's default seccomp profile (runtime/seccomp_profile.h); false: unconfined
  // (`--security-opt seccomp=unconfined`).
  bool seccomp = true;
  // The capabilities of a root process (runtime/capabilities.h); nullopt: Docker's 14 defaults.
  // Every other capability leaves the bounding set too. A non-root user gets none.
  std::optional<std::vector<int>> capabilities;
  bool tty = false;         // allocate a pty in the container's devpts; see Container::pty_master
  bool stdin_open = false;  // false: stdin is /dev/null whatever stdin_fd says
  Resources resources;
  // Docker's --ulimit; RLIMIT_NOFILE defaults to 1024:524288 unless given (runtime/rlimits.h).
  std::vector<Ulimit> ulimits;
  uint64_t shm_size_bytes = 0;  // size of the /dev/shm tmpfs; 0: Docker's 64 MiB
  // The container's stdio, duplicated into it. Ignored with tty (the pty slave is 0, 1 and 2).
  int stdin_fd = 0, stdout_fd = 1, stderr_fd = 2;
  // Directory where hosts, resolv.conf and hostname are written and bound from. Empty: a
  // temporary directory removed with the Container. Must not be inside the root.
  std::string etc_dir;
  // Bind etc_dir/hostname onto /etc/hostname (Docker's containers do; BuildKit's RUN steps do
  // not, so a RUN may replace or remove the image's /etc/hostname).
  bool bind_etc_hostname = true;
  // "HOST:IP" entries added to /etc/hosts (Docker's --add-host), already validated.
  std::vector<std::string> extra_hosts;
  // Docker's --init: pid 1 is a minimal init that reaps zombies and forwards signals to the
  // command (runtime/init_process.h).
  bool init = false;
  // Names the cgroup ("imgbuild-<id>") and gives the default hostname. Empty: random hex.
  std::string id;
};

class Container {
 public:
  // Starts the process; returns once it has exec'd (or fails, leaving nothing behind).
  static Result<Container> start(const std::string& rootfs, const ProcessSpec& spec);

  // Starts a process in the running container whose pid 1 is container_pid (`docker exec`): it
  // joins that container's mount, uts, ipc, net and pid namespaces (setns through a pidfd) and its
  // cgroups, so it sees the container's root (read-only if that is), /proc and devices; then
  // spec's stdio or tty, cwd (must exist), user, capabilities, no_new_privs and seccomp filter
  // apply as for Container::start. Only the process fields of spec are used (args, env, cwd, uid,
  // gid, additional_gids, capabilities, seccomp, tty, stdin_open, the fds). Errors as start();
  // kRuntime naming the container pid when it is gone. The Container owns the process only
  // (destroying it kills that process, not the container).
  static Result<Container> exec(pid_t container_pid, const ProcessSpec& spec);

  Container(Container&&) noexcept;
  Container& operator=(Container&&) noexcept;
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;
  // Unless waited: SIGKILLs the container (the whole pid namespace dies with its pid 1), reaps it,
  // removes the cgroup, the mount stubs and a temporary etc_dir.
  ~Container();

  const std::string& id() const;
  pid_t pid() const;  // host pid of the container's pid 1; -1 once waited
  // Sends sig to the container's pid 1. A pid 1 ignores signals it has no handler for
  // (SIGKILL excepted), as in Docker.
  Status kill(int sig);
  // Waits for pid 1 to exit and cleans up. Returns the exit code, or 128+N after signal N.
  Result<int> wait();
  // With spec.tty: the pty master (owned by the Container until taken). Invalid otherwise.
  UniqueFd take_pty_master();

  struct State;

 private:
  explicit Container(State* state) : state_(state) {}
  static Result<Container> start_impl(const std::string& rootfs, const ProcessSpec& spec,
                                      bool& exec_failed);
  static Result<Container> exec_impl(pid_t container_pid, const ProcessSpec& spec,
                                     bool& exec_failed);
  State* state_ = nullptr;
};

// start + wait, forwarding SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the
// container while it runs; with spec.tty relays the pty to this process's stdin/stdout (raw mode
// when stdin is a terminal) and follows SIGWINCH. Returns the container's exit code.
// on_start, when given, is called with the container's host pid once it has exec'd;
// on_forwarded with each signal forwarded to it (SIGWINCH is not).
Result<int> run_container(const std::string& rootfs, const ProcessSpec& spec,
                          const std::function<void(pid_t)>& on_start = {},
                          const std::function<void(int)>& on_forwarded = {});

// Container::exec + the same relaying and signal forwarding as run_container; returns the exit
// code of the exec'd process.
Result<int> run_exec(pid_t container_pid, const ProcessSpec& spec);

// Docker's exit code for an error from Container::start / run_container: 127 executable not
// found, 126 not executable, 125 anything else.
int exit_code_for_start_error(const Error& error);

}  // namespace imgbuild::runtime
