// imgbuild top CONTAINER: the container's processes, as `docker top` shows them (ps -ef columns:
// UID PID PPID C STIME TTY TIME CMD, host pids), read from /proc: every process whose cgroup is
// the container's.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <sstream>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "cli/command.h"
#include "cli/container_state.h"

namespace imgbuild::cli {
namespace {

struct Proc {
  int pid = 0, ppid = 0;
  unsigned uid = 0;
  std::string stime, time, cmd;
};

std::string uid_name(unsigned uid) {
  return uid == 0 ? "root" : std::to_string(uid);  // host names mean nothing for a container
}

std::optional<Proc> read_proc(int pid) {
  std::string dir = "/proc/" + std::to_string(pid);
  auto stat = fs::read_file(dir + "/stat");
  auto status = fs::read_file(dir + "/status");
  auto cmdline = fs::read_file(dir + "/cmdline");
  if (!stat || !status || !cmdline) return std::nullopt;
  Proc p;
  p.pid = pid;
  // Fields after the command (which may contain spaces and parentheses) start after the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat->substr(close + 2));
  std::string state;
  unsigned long long v[20] = {};
  fields >> state;
  for (auto& x : v) fields >> x;
  // After state: ppid(0) pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(10)
  // stime(11) cutime cstime priority nice threads itrealvalue starttime(18).
  p.ppid = static_cast<int>(v[0]);
  long hz = ::sysconf(_SC_CLK_TCK);
  unsigned long long cpu = (v[10] + v[11]) / static_cast<unsigned long long>(hz);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02llu:%02llu:%02llu", cpu / 3600, cpu / 60 % 60, cpu % 60);
  p.time = buf;
  double uptime = 0;
  if (auto up = fs::read_file("/proc/uptime")) uptime = std::atof(up->c_str());
  std::time_t started = std::time(nullptr) - static_cast<std::time_t>(uptime) +
                        static_cast<std::time_t>(v[18] / static_cast<unsigned long long>(hz));
  std::tm tm{};
  ::localtime_r(&started, &tm);
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  p.stime = buf;
  size_t u = status->find("\nUid:\t");
  if (u != std::string::npos) p.uid = static_cast<unsigned>(std::atol(status->c_str() + u + 6));
  for (char c : *cmdline) p.cmd += c == '\0' ? ' ' : c;
  while (!p.cmd.empty() && p.cmd.back() == ' ') p.cmd.pop_back();
  if (p.cmd.empty()) {
    size_t open = stat->find('(');
    p.cmd = "[" + stat->substr(open + 1, close - open - 1) + "]";
  }
  return p;
}

std::string pid_namespace(pid_t pid) {
  char link[64] = {};
  std::string path = "/proc/" + std::to_string(pid) + "/ns/pid";
  ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : std::string();
}

Result<std::vector<Proc>> container_processes(const ContainerRecord& record) {
  std::vector<Proc> out;
  auto dir = TRY(fs::DirReader::open("/proc"));
  std::string marker = "imgbuild-" + record.id;
  // Rootless without a delegated cgroup there is no cgroup to go by: the container's processes
  // are those in its pid namespace.
  std::string pidns = pid_namespace(record.container_pid);
  while (auto e = TRY(dir.next())) {
    int pid = std::atoi(e->name.c_str());
    if (pid <= 0) continue;
    auto cg = fs::read_file("/proc/" + std::to_string(pid) + "/cgroup");
    bool member = cg && cg->find(marker) != std::string::npos;
    if (!member && (pidns.empty() || pid_namespace(pid) != pidns)) continue;
    if (auto p = read_proc(pid)) out.push_back(std::move(*p));
  }
  std::sort(out.begin(), out.end(), [](const Proc& a, const Proc& b) { return a.pid < b.pid; });
  return out;
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto name = std::make_shared<std::string>();
  sub.add_option("CONTAINER", *name, "Container")->required();
  return [=, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    auto record = find_record(*store, *name);
    if (!record) return report_error(record.error());
    if (!is_running(*record) || !pid_belongs(*record)) {
      return report_error(
          Error(ErrorKind::kInvalidArgument, "container " + record->id + " is not running"));
    }
    auto procs = container_processes(*record);
    if (!procs) return report_error(procs.error());
    std::printf("%-8s %-8s %-8s %-2s %-6s %-6s %-9s %s\n", "UID", "PID", "PPID", "C", "STIME",
                "TTY", "TIME", "CMD");
    for (const auto& p : *procs) {
      std::printf("%-8s %-8d %-8d %-2d %-6s %-6s %-9s %s\n", uid_name(p.uid).c_str(), p.pid, p.ppid,
                  0, p.stime.c_str(), "?", p.time.c_str(), p.cmd.c_str());
    }
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(top, Command{
                          .name = "top",
                          .description = "Display the running processes of a container",
                          .setup = setup,
                      });

}  // namespace imgbuild::cli
