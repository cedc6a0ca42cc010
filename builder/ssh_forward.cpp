#include "builder/ssh_forward.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <list>
#include <thread>

#include "base/eintr.h"
#include "base/sys.h"
#include "base/unique_fd.h"

extern char** environ;

namespace imgbuild::builder {

namespace {

Result<sockaddr_un> socket_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return fail(ErrorKind::kInvalidArgument, "ssh agent socket " + path + ": path longer than " +
                                                 std::to_string(sizeof addr.sun_path - 1) +
                                                 " bytes");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

Result<UniqueFd> connect_unix(const std::string& path) {
  sockaddr_un addr = TRY(socket_address(path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket", path);
  if (sys::retry_eintr([&] {
        return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
      }) < 0) {
    return fail_errno("connect", path);
  }
  return fd;
}

bool is_socket(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// Starts `ssh-agent -D -a SOCKET` (foreground, so the Child owns it) and waits for its socket.
Result<Child> start_private_agent(const std::string& socket) {
  std::string program = find_system_program("ssh-agent");
  if (program.empty()) {
    return fail(ErrorKind::kNotFound,
                "--ssh with key files needs ssh-agent (Debian package openssh-client)");
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> args = {program, "-D", "-a", socket};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail_errno("spawn", program, rc);
  Child agent(pid);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!is_socket(socket)) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      agent.release();
      return fail(ErrorKind::kRuntime, "ssh-agent exited before creating " + socket);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(ErrorKind::kRuntime, "ssh-agent did not create " + socket + " within 10 s");
    }
    ::usleep(10000);
  }
  return agent;
}

}  // namespace

Result<std::pair<std::string, SshSource>> parse_ssh_flag(std::string_view text,
                                                         const char* auth_sock) {
  auto eq = text.find('=');
  std::string id(text.substr(0, eq));
  if (id.empty()) {
    return fail(ErrorKind::kInvalidArgument,
                "--ssh \"" + std::string(text) + "\": expected default|ID[=SOCKET|KEY[,KEY...]]");
  }
  SshSource source;
  if (eq == std::string_view::npos) {
    if (auth_sock == nullptr || *auth_sock == '\0') {
      return fail(
          ErrorKind::kInvalidArgument,
          "--ssh " + id + ": invalid empty ssh agent socket: make sure SSH_AUTH_SOCK is set");
    }
    source.paths.push_back(auth_sock);
    return std::make_pair(id, source);
  }
  std::string_view rest = text.substr(eq + 1);
  while (true) {
    auto comma = rest.find(',');
    std::string path(rest.substr(0, comma));
    if (path.empty()) {
      return fail(ErrorKind::kInvalidArgument,
                  "--ssh \"" + std::string(text) + "\": empty socket or key path");
    }
    source.paths.push_back(path);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return std::make_pair(id, source);
}

Result<std::shared_ptr<SshAgent>> SshAgent::open(const std::string& id, const SshSource& source) {
  std::shared_ptr<SshAgent> agent(new SshAgent());
  if (source.paths.size() == 1 && is_socket(source.paths[0])) {
    agent->socket_ = source.paths[0];
    // Fail now, naming the flag, rather than inside a RUN step.
    TRY_CTX(connect_unix(agent->socket_), "--ssh " + id);
    return agent;
  }
  for (const auto& path : source.paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) return fail_errno("stat", "--ssh " + id + " " + path);
    if (S_ISSOCK(st.st_mode)) {
      return fail(ErrorKind::kInvalidArgument,
                  "--ssh " + id + ": an agent socket cannot be combined with other paths");
    }
    if (!S_ISREG(st.st_mode)) {
      return fail(ErrorKind::kInvalidArgument,
                  "--ssh " + id + " " + path + ": not an agent socket or a key file");
    }
  }
  agent->private_dir_ = TRY(fs::TempDir::create("/tmp", "imgbuild-ssh-agent-"));
  agent->socket_ = fs::join(agent->private_dir_->path(), "agent.sock");
  agent->private_agent_ = TRY_CTX(start_private_agent(agent->socket_), "--ssh " + id);
  std::vector<std::string> argv = {"ssh-add", "-q"};
  argv.insert(argv.end(), source.paths.begin(), source.paths.end());
  ProcessOptions options;
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (!kv.starts_with("SSH_AUTH_SOCK=") && !kv.starts_with("SSH_ASKPASS")) env.emplace_back(kv);
  }
  env.push_back("SSH_AUTH_SOCK=" + agent->socket_);
  env.push_back("SSH_ASKPASS_REQUIRE=never");
  options.env = env;
  auto added = TRY_CTX(run_process(argv, options), "--ssh " + id);
  if (added.exit_code != 0) {
    std::string why = added.err;
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    return fail(ErrorKind::kInvalidArgument, "--ssh " + id + ": ssh-add could not load the keys" +
                                                 (why.empty() ? std::string() : ": " + why));
  }
  return agent;
}

SshAgent::~SshAgent() = default;

// The relay: one thread polls the listening socket, a stop eventfd and every open connection
// pair; what one side sends is written to the other. Agent messages are small, so blocking
// writes cannot stall the others for long.
struct SshForward::State {
  std::shared_ptr<SshAgent> agent;
  fs::TempDir dir;
  std::string socket;
  UniqueFd listener;
  UniqueFd stop;
  std::thread thread;

  struct Pair {
    UniqueFd client, upstream;
  };

  void loop() {
    std::list<Pair> pairs;
    std::vector<pollfd> fds;
    char buf[65536];
    while (true) {
      fds.clear();
      fds.push_back({stop.get(), POLLIN, 0});
      fds.push_back({listener.get(), POLLIN, 0});
      for (auto& p : pairs) {
        fds.push_back({p.client.get(), POLLIN, 0});
        fds.push_back({p.upstream.get(), POLLIN, 0});
      }
      if (!sys::poll(fds, -1, "ssh agent forwarding")) return;
      if (fds[0].revents != 0) return;
      size_t i = 2;
      for (auto it = pairs.begin(); it != pairs.end(); i += 2) {
        bool done = false;
        for (int side = 0; side < 2 && !done; ++side) {
          if (fds[i + side].revents == 0) continue;
          int from = side == 0 ? it->client.get() : it->upstream.get();
          int to = side == 0 ? it->upstream.get() : it->client.get();
          auto n = sys::read_some(from, buf, "ssh agent connection");
          done = !n || *n == 0 || !sys::write_all(to, std::string_view(buf, *n), "ssh agent");
        }
        it = done ? pairs.erase(it) : std::next(it);
      }
      if (fds[1].revents & POLLIN) {
        UniqueFd client(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client) continue;
        auto upstream = connect_unix(agent->socket_path());
        if (upstream) pairs.push_back(Pair{std::move(client), std::move(*upstream)});
      }
    }
  }
};

SshForward::SshForward(std::unique_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<SshForward>> SshForward::start(std::shared_ptr<SshAgent> agent,
                                                      unsigned mode, unsigned uid, unsigned gid) {
  auto state = std::make_unique<State>(State{std::move(agent),
                                             TRY(fs::TempDir::create("/tmp", "imgbuild-ssh-")),
                                             {},
                                             UniqueFd(),
                                             UniqueFd(),
                                             {}});
  state->socket = fs::join(state->dir.path(), "agent.sock");
  sockaddr_un addr = TRY(socket_address(state->socket));
  state->listener.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!state->listener) return fail_errno("socket", state->socket);
  if (::bind(state->listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    return fail_errno("bind", state->socket);
  }
  if (::listen(state->listener.get(), 16) < 0) return fail_errno("listen", state->socket);
  if (::chown(state->socket.c_str(), uid, gid) < 0) return fail_errno("chown", state->socket);
  if (::chmod(state->socket.c_str(), mode & 07777) < 0) return fail_errno("chmod", state->socket);
  // The bind source must resolve for the step's user too.
  if (::chmod(state->dir.path().c_str(), 0711) < 0) return fail_errno("chmod", state->dir.path());
  state->stop.reset(::eventfd(0, EFD_CLOEXEC));
  if (!state->stop) return fail_errno("eventfd", "ssh forwarding");
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->loop(); });
  return std::unique_ptr<SshForward>(new SshForward(std::move(state)));
}

SshForward::~SshForward() {
  uint64_t one = 1;
  // An eventfd write of 8 bytes is never partial.
  (void)sys::retry_eintr([&] { return ::write(state_->stop.get(), &one, sizeof one); });
  state_->thread.join();
}

const std::string& SshForward::socket_path() const { return state_->socket; }

}  // namespace imgbuild::builder
