#include "runtime/container_support.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

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

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return fail_errno("pipe2", "container");
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

UniqueFd receive_fd(int sock) {
  char byte = 0;
  struct iovec iov {
    &byte, 1
  };
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return UniqueFd();
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  if (cm == nullptr || cm->cmsg_type != SCM_RIGHTS) return UniqueFd();
  int fd;
  std::memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return UniqueFd(fd);
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
  size_t got = 0;
  while (got < sizeof report) {
    ssize_t n = ::read(fd, reinterpret_cast<char*>(&report) + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got == 0) return std::optional<ChildReport>();
  if (got != sizeof report) return fail(ErrorKind::kRuntime, "short report from the container");
  report.what[sizeof report.what - 1] = '\0';
  return std::optional<ChildReport>(report);
}

}  // namespace imgbuild::runtime::detail
