#include "runtime/container_support.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "base/fd_passing.h"
#include "runtime/capabilities.h"
#include "runtime/docker_defaults.h"
#include "runtime/process_config.h"

namespace imgbuild::runtime::detail {
namespace {

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
  std::string found;
  bool have = false;
  for (const auto& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      found = e.substr(key.size() + 1);
      have = true;
    }
  }
  return have ? found : std::string(kDefaultPath);
}

}  // namespace

std::vector<std::string> exec_candidates(const std::string& arg0,
                                         const std::vector<std::string>& env) {
  if (arg0.find('/') != std::string::npos) return {arg0};
  std::vector<std::string> out;
  std::string path = env_value(env, "PATH");
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find(':', i);
    if (j == std::string::npos) j = path.size();
    // (Not "dir = \".\"" after substr: GCC 12 warns falsely (-Wrestrict) on that assignment.)
    std::string dir = j > i ? path.substr(i, j - i) : std::string(".");
    out.push_back(dir + "/" + arg0);
    i = j + 1;
  }
  return out;
}

std::string errno_text(int err) {
  return std::string(errno_name(err)) + " (" + std::strerror(err) + ")";
}

Error exec_error(const std::string& arg0, int err) {
  std::string subject = "exec: \"" + arg0 + "\": ";
  if (err == ENOENT || err == ENOTDIR) {
    if (arg0.find('/') == std::string::npos) {
      return Error(ErrorKind::kNotFound, subject + "executable file not found in $PATH", err);
    }
    return Error(ErrorKind::kNotFound, subject + "no such file or directory", err);
  }
  if (err == EACCES) return Error(ErrorKind::kPermission, subject + "permission denied", err);
  return Error(ErrorKind::kPermission, subject + std::strerror(err), err);
}

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() { return sys::pipe2(0, "container"); }

UniqueFd receive_fd(int sock) {
  return std::move(sys::receive_fd(sock, "console socket")).value_or(UniqueFd());
}

void set_capabilities(ChildPlan& plan, const ProcessSpec& spec) {
  plan.caps[0] = plan.caps[1] = 0;
  auto set = [&](int cap) {
    if (cap >= 0 && cap < 64) plan.caps[cap / 32] |= 1U << (cap % 32);
  };
  if (spec.capabilities) {
    for (int cap : *spec.capabilities) set(cap);
  } else {
    for (int cap : kDefaultCapabilities) set(cap);
  }
  for (int cap = 0; cap <= last_capability(); ++cap) {
    if ((plan.caps[cap / 32] & (1U << (cap % 32))) == 0) plan.drop_bounding.push_back(cap);
  }
}

Result<std::optional<ChildReport>> read_child_report(int fd) {
  ChildReport report;
  // A read error counts as a short report: the child is gone either way.
  size_t got = sys::read_exact(fd, {reinterpret_cast<char*>(&report), sizeof report}, "report pipe")
                   .value_or(sizeof report - 1);
  if (got == 0) return std::optional<ChildReport>();
  if (got != sizeof report) return fail(ErrorKind::kRuntime, "short report from the container");
  report.what[sizeof report.what - 1] = '\0';
  return std::optional<ChildReport>(report);
}

}  // namespace imgbuild::runtime::detail
