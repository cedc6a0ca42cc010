// imgbuild exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] CONTAINER CMD...: runs a process in a
// running container (runtime::Container::exec), as `docker exec`: the container's environment
// plus -e, its working directory unless -w, its user unless -u (resolved in the container's
// /etc/passwd), its capabilities, seccomp filter and no_new_privs. Exit codes as Docker: the
// command's, 126 when it cannot be executed (or the process cannot be set up), 127 when it is not
// found, 1 when the container is not running or does not exist.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "base/fs.h"
#include "base/sys.h"
#include "cli/command.h"
#include "cli/container_state.h"
#include "runtime/process_config.h"
#include "runtime/user.h"

namespace imgbuild::cli {
namespace {

struct ExecArgs {
  bool interactive = false, tty = false, detach = false;
  std::vector<std::string> env;
  std::string workdir, user;
};

Result<runtime::ProcessSpec> exec_spec(const image::Store& store, const ContainerRecord& record,
                                       const ExecArgs& a, std::vector<std::string> cmd) {
  runtime::ProcessSpec spec = record.spec;
  spec.args = std::move(cmd);
  std::vector<std::string> env;
  for (const auto& e : a.env) {
    if (e.find('=') != std::string::npos) {
      env.push_back(e);
    } else if (const char* v = std::getenv(e.c_str())) {
      env.push_back(e + "=" + v);
    }
  }
  spec.env = runtime::merge_env(record.spec.env, env);
  if (a.tty && std::none_of(spec.env.begin(), spec.env.end(),
                            [](const std::string& e) { return e.starts_with("TERM="); })) {
    spec.env.push_back("TERM=xterm");
  }
  if (!a.workdir.empty()) {
    if (a.workdir[0] != '/') {
      return fail(ErrorKind::kInvalidArgument, "the working directory '" + a.workdir +
                                                   "' is invalid, it needs to be an "
                                                   "absolute path");
    }
    spec.cwd = a.workdir;
  }
  if (!a.user.empty()) {
    auto user = TRY(runtime::resolve_user(container_rootfs(store, record.id), a.user));
    spec.uid = user.uid;
    spec.gid = user.gid;
    spec.additional_gids = user.additional_gids;
  }
  spec.tty = a.tty;
  spec.stdin_open = a.interactive;
  spec.stdin_fd = 0;
  spec.stdout_fd = 1;
  spec.stderr_fd = 2;
  spec.id = record.id;
  return spec;
}

int exit_code_for(const Error& e) {
  // Docker answers 126 for every "OCI runtime exec failed"; 127 only for a missing executable.
  return e.kind() == ErrorKind::kNotFound ? 127 : 126;
}

// -d: a helper process (its own session, stdio on /dev/null) starts the process and waits for
// it; this one returns as soon as the process has exec'd (or failed to).
int exec_detached(pid_t container_pid, runtime::ProcessSpec spec) {
  auto pipe = sys::pipe2(0, "exec");
  if (!pipe) return report_error(pipe.error());
  auto& [ready_r, ready_w] = *pipe;
  pid_t helper = ::fork();
  if (helper < 0) return report_error(Error::from_errno("fork", "exec helper", errno));
  if (helper == 0) {
    ready_r.reset();
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    spec.stdin_open = false;
    spec.tty = false;
    spec.stdin_fd = spec.stdout_fd = spec.stderr_fd = null;
    auto process = runtime::Container::exec(container_pid, spec);
    std::string reply =
        process ? "0"
                : std::to_string(exit_code_for(process.error())) + " " + process.error().message();
    (void)sys::write_all(ready_w.get(), reply, "exec ready pipe");
    ready_w.reset();
    if (process) (void)process->wait();
    ::_exit(0);
  }
  ready_w.reset();
  auto reply = sys::read_all(ready_r.get(), "exec ready pipe");
  if (!reply || reply->empty()) {
    return report_error(Error(ErrorKind::kRuntime, "the exec helper exited early"), 126);
  }
  if (*reply == "0") return 0;
  size_t space = reply->find(' ');
  return report_error(Error(ErrorKind::kRuntime, reply->substr(space + 1)),
                      std::atoi(reply->substr(0, space).c_str()));
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto args = std::make_shared<ExecArgs>();
  sub.prefix_command();  // CONTAINER ends the options; everything after it is the command
  sub.add_flag("-i,--interactive", args->interactive, "Keep stdin open");
  sub.add_flag("-t,--tty", args->tty, "Allocate a pseudo-TTY");
  sub.add_flag("-d,--detach", args->detach, "Run the command in the background");
  sub.add_option("-e,--env", args->env, "Set environment variables (K=V)")->allow_extra_args(false);
  sub.add_option("-w,--workdir", args->workdir, "Working directory inside the container");
  sub.add_option("-u,--user", args->user, "User (name|uid[:group|gid])");
  return [args, &sub, &globals]() -> int {
    std::vector<std::string> rest = sub.remaining();
    if (rest.size() < 2) {
      return report_error(Error(ErrorKind::kInvalidArgument,
                                "\"exec\" requires at least 2 arguments: CONTAINER COMMAND"));
    }
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    auto record = find_record(*store, rest[0]);
    if (!record) return report_error(record.error());
    if (!is_running(*record) || !pid_belongs(*record)) {
      return report_error(
          Error(ErrorKind::kInvalidArgument, "container " + record->id + " is not running"));
    }
    auto spec = exec_spec(*store, *record, *args, {rest.begin() + 1, rest.end()});
    if (!spec) return report_error(spec.error(), 126);
    if (args->detach) return exec_detached(record->container_pid, std::move(*spec));
    auto code = runtime::run_exec(record->container_pid, *spec);
    if (!code) return report_error(code.error(), exit_code_for(code.error()));
    return *code;
  };
}

}  // namespace

IMGBUILD_COMMAND(exec, Command{
                           .name = "exec",
                           .description = "Execute a command in a running container",
                           .setup = setup,
                       });

}  // namespace imgbuild::cli
