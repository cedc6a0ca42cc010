#include "runtime/container.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "base/fs.h"
#include "base/log.h"
#include "base/subprocess.h"
#include "base/sys.h"
#include "runtime/bind_source.h"
#include "runtime/cgroup.h"
#include "runtime/child.h"
#include "runtime/container_support.h"
#include "runtime/docker_defaults.h"
#include "runtime/etc_files.h"
#include "runtime/id_map.h"
#include "runtime/init_process.h"
#include "runtime/process_config.h"
#include "runtime/safe_path.h"
#include "runtime/seccomp_profile.h"
#include "runtime/user.h"
#include "runtime/user_network.h"

namespace imgbuild::runtime {

using detail::errno_text;
using detail::exec_candidates;
using detail::exec_error;
using detail::make_pipe;
using detail::receive_fd;
using detail::set_capabilities;

namespace {

Result<std::string> random_id() {
  UniqueFd fd = TRY(sys::open("/dev/urandom", O_RDONLY));
  unsigned char bytes[32];
  size_t got = TRY(sys::read_some(fd.get(), {reinterpret_cast<char*>(bytes), sizeof bytes}));
  if (got != sizeof bytes) return fail(ErrorKind::kIo, "short read from /dev/urandom");
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

Status check_spec(const ProcessSpec& spec) {
  if (spec.args.empty()) return fail(ErrorKind::kInvalidArgument, "no command specified");
  if (spec.cwd.empty() || spec.cwd[0] != '/') {
    return fail(ErrorKind::kInvalidArgument, "the working directory '" + spec.cwd +
                                                 "' is invalid, it needs to be an absolute path");
  }
  // setresuid(-1) is "unchanged": an id that large would leave the process as root.
  TRY(check_id_range(spec.uid, "user " + std::to_string(spec.uid)));
  TRY(check_id_range(spec.gid, "group " + std::to_string(spec.gid)));
  for (uint32_t g : spec.additional_gids) TRY(check_id_range(g, "group " + std::to_string(g)));
  std::vector<std::string> targets;
  for (const auto& m : spec.mounts) targets.push_back(m.target);
  for (const auto& m : spec.tmpfs_mounts) targets.push_back(m.target);
  for (const auto& target : targets) {
    if (target.empty() || target[0] != '/') {
      return fail(ErrorKind::kInvalidArgument,
                  "invalid mount target " + target + ": must be an absolute path");
    }
  }
  return {};
}

}  // namespace

Container::Container(Container&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

Container& Container::operator=(Container&& other) noexcept {
  if (this != &other) {
    this->~Container();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

Container::~Container() {
  if (state_ == nullptr) return;
  state_->kill_and_reap();
  state_->cleanup();
  delete state_;
  state_ = nullptr;
}

const std::string& Container::id() const { return state_->id; }
pid_t Container::pid() const { return state_ != nullptr ? state_->pid : -1; }

Status Container::kill(int sig) {
  if (state_ == nullptr || state_->pid <= 0) {
    return fail(ErrorKind::kInvalidArgument, "container is not running");
  }
  if (::kill(state_->pid, sig) < 0) return fail_errno("kill", std::to_string(state_->pid));
  return {};
}

Result<int> Container::wait() {
  if (state_ == nullptr || state_->pid <= 0) {
    return fail(ErrorKind::kInvalidArgument, "container is not running");
  }
  int status = TRY(sys::wait_pid(state_->pid));
  log::debug("container: exited");
  state_->pid = -1;
  state_->cleanup();
  log::debug("container: cleaned up");
  return exit_code_from_wait_status(status);
}

UniqueFd Container::take_pty_master() {
  return state_ != nullptr ? std::move(state_->pty_master) : UniqueFd();
}

const char* network_mode_name(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::kHost: return "host";
    case NetworkMode::kPrivate: return "bridge";
    case NetworkMode::kNone: break;
  }
  return "none";
}

std::optional<NetworkMode> parse_network_mode(std::string_view name) {
  if (name == "none") return NetworkMode::kNone;
  if (name == "host") return NetworkMode::kHost;
  if (name == "bridge" || name == "default" || name == "slirp4netns") return NetworkMode::kPrivate;
  return std::nullopt;
}

int exit_code_for_start_error(const Error& error) {
  switch (error.kind()) {
    case ErrorKind::kNotFound: return 127;
    case ErrorKind::kPermission: return 126;
    default: return 125;
  }
}

Result<Container> Container::start(const std::string& rootfs, const ProcessSpec& spec) {
  bool exec_failed = false;
  auto result = start_impl(rootfs, spec, exec_failed);
  if (!result && !exec_failed) {
    const Error& e = result.error();
    return fail(Error(ErrorKind::kRuntime, e.message(), e.errno_value()));
  }
  return result;
}

Result<Container> Container::start_impl(const std::string& rootfs, const ProcessSpec& spec,
                                        bool& exec_failed) {
  TRY(check_spec(spec));
  auto state = std::make_unique<State>();
  state->id = spec.id.empty() ? TRY(random_id()) : spec.id;

  char* real = ::realpath(rootfs.c_str(), nullptr);
  if (real == nullptr) return fail_errno("realpath", rootfs);
  std::string root_real(real);
  std::free(real);
  state->rootfd = TRY(sys::open(root_real, O_PATH | O_DIRECTORY));
  state->stubs = MountStubs(state->rootfd.get(), root_real);

  std::string hostname = spec.hostname;
  if (hostname.empty()) {
    if (spec.network == NetworkMode::kHost) {
      char buf[256] = {};
      ::gethostname(buf, sizeof buf - 1);
      hostname = buf;
    } else {
      hostname = state->id.substr(0, 12);
    }
  }
  std::string etc_dir = spec.etc_dir;
  if (etc_dir.empty()) {
    state->etc_tmp = TRY(fs::TempDir::create("/tmp", "imgbuild-etc-"));
    etc_dir = state->etc_tmp->path();
  }
  TRY_CTX(write_etc_files(etc_dir, hostname, spec.network, spec.extra_hosts), "writing /etc files");

  // Mount targets, resolved (and created when missing) inside the root. Strings live in `keep`
  // (reserved up front, so pointers into it stay valid) until the child has exec'd.
  std::vector<std::string> keep;
  keep.reserve(4 * (spec.mounts.size() + spec.tmpfs_mounts.size()) + 64);
  auto hold = [&keep](std::string s) { return keep.emplace_back(std::move(s)).c_str(); };
  std::vector<ChildMount> mounts;
  auto add = [&](ChildMount::Type type, const std::string& target, TargetKind kind,
                 const std::string& source, int tree_fd) -> Status {
    std::string rel = TRY(state->stubs.ensure(target, kind));
    mounts.push_back(ChildMount{type, hold(rel), hold(target), hold(source), tree_fd});
    return {};
  };
  auto add_bind = [&](const BindMount& m) -> Status {
    BindTree bt = TRY(open_bind_tree(m.root, m.source, m.read_only));
    int fd = bt.tree.get();
    state->bind_trees.push_back(std::move(bt.tree));
    return add(ChildMount::Type::kBind, m.target,
               bt.is_dir ? TargetKind::kDirectory : TargetKind::kFile, m.source, fd);
  };
  TRY(add(ChildMount::Type::kProc, "/proc", TargetKind::kDirectory, "", -1));
  TRY(add(ChildMount::Type::kDev, "/dev", TargetKind::kDirectory, "", -1));
  TRY(add(ChildMount::Type::kSys, "/sys", TargetKind::kDirectory, "", -1));
  for (const auto& m : spec.mounts) TRY(add_bind(m));
  for (const auto& m : spec.tmpfs_mounts) {
    std::string size = m.size_bytes == 0 ? std::string() : std::to_string(m.size_bytes);
    TRY(add(ChildMount::Type::kTmpfs, m.target, TargetKind::kDirectory, size, -1));
  }
  for (const char* name : {"hosts", "resolv.conf", "hostname"}) {
    if (!spec.bind_etc_hostname && std::string_view(name) == "hostname") continue;
    TRY(add_bind(BindMount{fs::join(etc_dir, name), std::string("/etc/") + name, false, ""}));
  }
  TRY_CTX(state->stubs.make_dirs(spec.cwd), "creating the working directory " + spec.cwd);

  std::vector<std::string> candidates = exec_candidates(spec.args[0], spec.env);
  std::vector<char*> argv, envp;
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  ChildPlan plan{};
  plan.rootfs = root_real.c_str();
  plan.hostname = hostname.c_str();
  plan.new_netns = spec.network != NetworkMode::kHost;
  plan.rootless = in_user_namespace();
  plan.tty_group_mapped = !plan.rootless || id_mapped("/proc/self/gid_map", 5);
  plan.setgroups_allowed = setgroups_allowed();
  plan.mounts = std::move(mounts);
  plan.read_only_rootfs = spec.read_only_rootfs;
  plan.stdin_fd = spec.stdin_open ? spec.stdin_fd : -1;
  plan.stdout_fd = spec.stdout_fd;
  plan.stderr_fd = spec.stderr_fd;
  plan.cwd = spec.cwd.c_str();
  plan.rlimits = TRY(plan_rlimits(spec.ulimits));
  std::string shm_size =
      spec.shm_size_bytes == 0 ? std::string("65536k") : std::to_string(spec.shm_size_bytes);
  plan.shm_size = shm_size.c_str();
  plan.uid = spec.uid;
  plan.gid = spec.gid;
  plan.groups.assign(spec.additional_gids.begin(), spec.additional_gids.end());
  set_capabilities(plan, spec);
  plan.argv = argv.data();
  plan.envp = envp.data();
  sock_fprog seccomp_prog{};
  plan.seccomp = nullptr;
  if (spec.seccomp) {
    const SeccompProgram* program = TRY_CTX(default_seccomp_program(), "seccomp profile");
    seccomp_prog = program->fprog();
    plan.seccomp = &seccomp_prog;
  }
  for (const auto& c : candidates) plan.exec_candidates.push_back(c.c_str());
  std::string init_title;
  if (spec.init) prepare_init(plan, spec.args, init_title);

  log::debug("container: plan ready");
  state->cgroup = TRY(Cgroup::create("imgbuild-" + state->id, spec.resources));
  log::debug("container: cgroup created");

  auto [report_r, report_w] = TRY(make_pipe());
  int sync_fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_fds) < 0) {
    return fail_errno("socketpair", "sync");
  }
  UniqueFd sync_r(sync_fds[0]), sync_w(sync_fds[1]);
  UniqueFd console_parent, console_child;
  if (spec.tty) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
      return fail_errno("socketpair", "pty");
    }
    console_parent.reset(sv[0]);
    console_child.reset(sv[1]);
  }
  plan.report_fd = report_w.get();
  plan.sync_fd = sync_r.get();
  plan.console_fd = console_child.get();

  struct clone_args args {};
  args.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  if (plan.new_netns) args.flags |= CLONE_NEWNET;
  args.exit_signal = SIGCHLD;
  // Born in its cgroup where the kernel allows (v2): no migration (see cgroup.h).
  bool cloned_into = state->cgroup.clone_fd() >= 0;
  if (cloned_into) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(state->cgroup.clone_fd());
  }
  // Signals stay blocked across clone so that no handler of this process runs in the child
  // before it has reset them all.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && cloned_into && (errno == EINVAL || errno == E2BIG || errno == EOPNOTSUPP)) {
    // A kernel before 5.7 (or a cgroup it refuses): clone, then migrate like v1.
    cloned_into = false;
    args.flags &= ~static_cast<uint64_t>(CLONE_INTO_CGROUP);
    args.cgroup = 0;
    pid = ::syscall(SYS_clone3, &args, sizeof args);
  }
  if (pid == 0) child_main(plan);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return fail_errno("clone3", "container", clone_errno);
  state->pid = static_cast<pid_t>(pid);
  log::debug("container: cloned, pid " + std::to_string(pid));
  report_w.reset();
  sync_r.reset();
  console_child.reset();
  state->bind_trees.clear();

  // From here on, returning an error destroys the Container, which kills and reaps the child.
  Container container(state.release());
  State* st = container.state_;
  // If the child already failed, its report explains more than these errors would.
  Status placed = st->cgroup.add(st->pid, cloned_into);
  log::debug("container: in its cgroup");
  if (placed && spec.network == NetworkMode::kPrivate) {
    // The child sets up its mounts meanwhile; it execs only after the sync byte below.
    auto net = UserNetwork::start(st->pid);
    if (net) {
      st->user_network.emplace(std::move(*net));
      log::debug("container: network up (slirp4netns)");
    } else {
      placed = fail(net.error().with_context("network"));
    }
  }
  if (placed) {
    if (::send(sync_w.get(), "g", 1, MSG_NOSIGNAL) != 1) placed = fail_errno("send", "sync socket");
  }
  if (!placed) ::kill(st->pid, SIGKILL);
  if (spec.tty && placed) st->pty_master = receive_fd(console_parent.get());

  auto reported = TRY(detail::read_child_report(report_r.get()));
  log::debug("container: child reported (exec'd or failed)");
  if (!reported) {
    if (!placed) return fail(placed.error());
    if (spec.tty && !st->pty_master) return fail(ErrorKind::kRuntime, "no pty from the container");
    return container;
  }
  const ChildReport& report = *reported;
  if (report.stage == ChildReport::kExec) {
    exec_failed = true;
    return fail(exec_error(spec.args[0], report.err));
  }
  return fail(Error(ErrorKind::kRuntime, std::string(report.what) + ": " + errno_text(report.err),
                    report.err));
}

}  // namespace imgbuild::runtime
