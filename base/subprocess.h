// Running helper programs (credential helpers, test peers, compressors): spawn with pipes, collect
// output, reap. Child owns a running process: destruction kills (SIGKILL) and reaps it unless it
// was waited for or released.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild {

class Child {
 public:
  Child() = default;
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(Child&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Waits; returns the raw wait status. The Child is empty afterwards.
  Result<int> wait();
  // Sends a signal (no-op when empty).
  void signal(int sig) const;
  pid_t release() { return std::exchange(pid_, -1); }

 private:
  pid_t pid_ = -1;
};

struct ProcessOptions {
  std::optional<std::string> stdin_data;        // nullopt: /dev/null
  std::optional<std::vector<std::string>> env;  // nullopt: inherit
  std::string cwd;                              // empty: inherit
};

struct ProcessResult {
  int exit_code = -1;  // WEXITSTATUS, or 128+signal
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH) to completion, capturing stdout and stderr.
// Fails only if the program could not be started (ENOENT names argv[0]).
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options = {});

// The first executable `name` in the system directories (/usr/bin, /bin, /usr/sbin, /sbin,
// /usr/local/bin), whatever PATH says: for setuid helpers and tools imgbuild relies on
// (newuidmap, slirp4netns). Empty when there is none.
std::string find_system_program(std::string_view name);

// Decodes a wait status into a Docker-style exit code: the code, or 128+signal.
int exit_code_from_wait_status(int status);

}  // namespace imgbuild
