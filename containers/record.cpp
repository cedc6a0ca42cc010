#include "containers/record.h"

#include <signal.h>

#include <cerrno>
#include <utility>

namespace imgbuild::containers {
namespace {

// state.json's words, one table for both directions.
constexpr std::pair<ContainerStatus, std::string_view> kStatusWords[] = {
    {ContainerStatus::kCreated, "created"},
    {ContainerStatus::kRunning, "running"},
    {ContainerStatus::kRestarting, "restarting"},
    {ContainerStatus::kExited, "exited"},
};

// kill(pid, 0): EPERM still means the process exists (a rootless reader, a root monitor).
bool monitor_alive(const ContainerRecord& r) {
  if (r.monitor_pid <= 0) return false;
  return ::kill(r.monitor_pid, 0) == 0 || errno == EPERM;
}

}  // namespace

std::string_view to_string(ContainerStatus status) {
  for (const auto& [value, word] : kStatusWords) {
    if (value == status) return word;
  }
  return "exited";
}

std::optional<ContainerStatus> parse_container_status(std::string_view text) {
  for (const auto& [value, word] : kStatusWords) {
    if (word == text) return value;
  }
  return std::nullopt;
}

bool is_running(const ContainerRecord& r) {
  return r.status == ContainerStatus::kRunning && monitor_alive(r);
}

bool is_restarting(const ContainerRecord& r) {
  return r.status == ContainerStatus::kRestarting && monitor_alive(r);
}

ContainerStatus observed_status(const ContainerRecord& r) {
  if (is_running(r)) return ContainerStatus::kRunning;
  if (is_restarting(r)) return ContainerStatus::kRestarting;
  return r.status == ContainerStatus::kCreated ? ContainerStatus::kCreated
                                               : ContainerStatus::kExited;
}

}  // namespace imgbuild::containers
