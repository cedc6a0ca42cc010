#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "base/eintr.h"
#include "base/sys.h"
#include "base/unique_fd.h"

namespace imgbuild {

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    this->~Child();
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

Child::~Child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    (void)sys::wait_pid(pid_);
    pid_ = -1;
  }
}

Result<int> Child::wait() {
  if (pid_ <= 0) return fail(ErrorKind::kInternal, "wait on an empty Child");
  int status = TRY(sys::wait_pid(pid_));
  pid_ = -1;
  return status;
}

void Child::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int exit_code_from_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options) {
  if (argv.empty()) return fail(ErrorKind::kInvalidArgument, "run_process: empty argv");
  auto [in_r, in_w] = TRY(sys::pipe2(0, "subprocess"));
  auto [out_r, out_w] = TRY(sys::pipe2(0, "subprocess"));
  auto [err_r, err_w] = TRY(sys::pipe2(0, "subprocess"));
  auto [exec_r, exec_w] = TRY(sys::pipe2(0, "subprocess"));  // reports exec failure errno

  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (options.env) {
    for (auto& e : *options.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }

  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork", argv[0]);
  if (pid == 0) {
    if (options.stdin_data) {
      ::dup2(in_r.get(), 0);
    } else {
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
    }
    ::dup2(out_w.get(), 1);
    ::dup2(err_w.get(), 2);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) < 0) {
      int e = errno;
      (void)!::write(exec_w.get(), &e, sizeof e);
      ::_exit(127);
    }
    if (options.env) {
      ::execvpe(args[0], args.data(), envp.data());
    } else {
      ::execvp(args[0], args.data());
    }
    int e = errno;
    (void)!::write(exec_w.get(), &e, sizeof e);
    ::_exit(127);
  }
  Child child(pid);
  in_r.reset();
  out_w.reset();
  err_w.reset();
  exec_w.reset();

  int exec_errno = 0;
  if (::read(exec_r.get(), &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    (void)child.wait();
    return fail_errno("exec", argv[0], exec_errno);
  }

  ProcessResult result;
  std::string_view to_write = options.stdin_data ? *options.stdin_data : std::string_view();
  if (!options.stdin_data) in_w.reset();
  ::signal(SIGPIPE, SIG_IGN);
  while (out_r || err_r || in_w) {
    struct pollfd pfds[3];
    int n = 0;
    if (out_r) pfds[n++] = {out_r.get(), POLLIN, 0};
    if (err_r) pfds[n++] = {err_r.get(), POLLIN, 0};
    if (in_w) pfds[n++] = {in_w.get(), POLLOUT, 0};
    if (TRY(sys::poll({pfds, static_cast<size_t>(n)}, -1, argv[0])) == 0) continue;
    for (int i = 0; i < n; ++i) {
      if (pfds[i].revents == 0) continue;
      if (pfds[i].fd == in_w.get()) {
        ssize_t w = sys::retry_eintr([&] {
          return ::write(in_w.get(), to_write.data(), std::min<size_t>(to_write.size(), 65536));
        });
        if (w < 0 && errno != EAGAIN) {
          in_w.reset();
        } else if (w > 0) {
          to_write.remove_prefix(static_cast<size_t>(w));
        }
        if (to_write.empty()) in_w.reset();
        continue;
      }
      char buf[65536];
      ssize_t r = sys::retry_eintr([&] { return ::read(pfds[i].fd, buf, sizeof buf); });
      bool is_out = pfds[i].fd == out_r.get();
      if (r <= 0) {
        (is_out ? out_r : err_r).reset();
      } else {
        (is_out ? result.out : result.err).append(buf, static_cast<size_t>(r));
      }
    }
  }
  int status = TRY(child.wait());
  result.exit_code = exit_code_from_wait_status(status);
  return result;
}

std::string find_system_program(std::string_view name) {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"}) {
    std::string path = std::string(dir) + "/" + std::string(name);
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

}  // namespace imgbuild
