#include "runtime/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <thread>

#include "base/fs.h"
#include "base/sys.h"
#include "base/user_namespace.h"
#include "runtime/device_policy.h"

namespace imgbuild::runtime {
namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
constexpr long kCgroup2Magic = 0x63677270;

bool is_cgroup2(const char* path) {
  struct statfs sfs {};
  return ::statfs(path, &sfs) == 0 && sfs.f_type == kCgroup2Magic;
}

// kUnified: cgroup v2 at /sys/fs/cgroup. kHybrid: v1 controllers plus a controller-less v2
// hierarchy at /sys/fs/cgroup/unified (systemd's hybrid mode, as on this project's machines).
// kLegacy: v1 only.
enum class Layout { kUnified, kHybrid, kLegacy };

Layout layout() {
  if (is_cgroup2(kCgroupRoot)) return Layout::kUnified;
  if (is_cgroup2("/sys/fs/cgroup/unified")) return Layout::kHybrid;
  return Layout::kLegacy;
}

// This process's cgroup path in the v1 hierarchy holding controller, or in the v2 hierarchy when
// controller is empty ("/" if not found).
std::string own_path(const std::string& controller) {
  auto text = fs::read_file("/proc/self/cgroup");
  if (!text) return "/";
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string list = line.substr(a + 1, b - a - 1);
    if (controller.empty()) {
      if (line.starts_with("0::")) return line.substr(b + 1);
      continue;
    }
    size_t i = 0;
    while (i <= list.size()) {
      size_t j = list.find(',', i);
      if (j == std::string::npos) j = list.size();
      if (list.substr(i, j - i) == controller) return line.substr(b + 1);
      i = j + 1;
    }
  }
  return "/";
}

// Where this runtime's v2 cgroups go: the root of the hierarchy, or rootless the caller's own
// (delegated) cgroup.
std::string v2_base() {
  if (!in_user_namespace()) return kCgroupRoot;
  std::string own = own_path("");
  return own == "/" ? std::string(kCgroupRoot) : kCgroupRoot + own;
}

Status write_file(const std::string& dir, const std::string& file, const std::string& value) {
  std::string path = dir + "/" + file;
  auto fd = sys::open(path, O_WRONLY | O_TRUNC);
  if (!fd) return fail(fd.error());
  if (::write(fd->get(), value.data(), value.size()) < 0) {
    return fail_errno("write " + value + " to", path);
  }
  return {};
}

// The v1 hierarchies a container joins besides its v2 cgroup. Each costs a task migration, and the
// first migration of a process waits for an RCU grace period (~15 ms here, half of `imgbuild run
// --rm IMAGE true`), so only the controllers whose limits are set are joined; where there is a v2
// hierarchy the container is cloned straight into its cgroup there (CLONE_INTO_CGROUP, no
// migration) and that cgroup tracks its processes. Without one, pids tracks them.
// nullptr: every hierarchy a container may have joined (cleanup).
std::vector<const char*> v1_hierarchies(Layout l, const Resources* r) {
  if (l == Layout::kUnified) return {};
  if (r == nullptr) return {"memory", "pids", "cpu", "devices"};
  std::vector<const char*> out;
  if (r->memory_bytes) out.push_back("memory");
  if (r->pids_limit || l == Layout::kLegacy) out.push_back("pids");
  if (r->cpus) out.push_back("cpu");
  return out;
}

// The container's cgroup directories; the v2 one (when there is a v2 hierarchy) first.
std::vector<std::string> hierarchy_dirs(const std::string& name, const Resources* r, Layout l) {
  std::vector<std::string> dirs;
  if (l == Layout::kUnified) {
    dirs.push_back(v2_base() + "/imgbuild/" + name);
    return dirs;
  }
  if (l == Layout::kHybrid) {
    std::string own = own_path("");
    if (own == "/") own.clear();
    dirs.push_back(std::string(kCgroupRoot) + "/unified" + own + "/imgbuild/" + name);
  }
  for (const char* c : v1_hierarchies(l, r)) {
    std::string mount = std::string(kCgroupRoot) + "/" + c;
    if (!fs::is_dir(mount)) continue;
    std::string own = own_path(c);
    if (own == "/") own.clear();
    dirs.push_back(mount + own + "/imgbuild/" + name);
  }
  return dirs;
}

}  // namespace

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept {
  if (this != &other) {
    remove();
    dirs_ = std::move(other.dirs_);
    other.dirs_.clear();
    clone_fd_ = std::move(other.clone_fd_);
  }
  return *this;
}

Result<Cgroup> Cgroup::create(const std::string& name, const Resources& r) {
  Cgroup cg;
  Layout l = layout();
  if (in_user_namespace()) {
    // Rootless: only a cgroup v2 subtree delegated to the user (systemd's user@.service) is
    // writable. Without one a container runs in the caller's cgroup, which is fine unless a limit
    // was asked for: that must never be dropped silently.
    bool limited = r.memory_bytes || r.pids_limit || r.cpus;
    std::string own = std::string(kCgroupRoot) + own_path("");
    bool delegated = l == Layout::kUnified && ::access(own.c_str(), W_OK) == 0 &&
                     ::access((own + "/cgroup.subtree_control").c_str(), W_OK) == 0;
    if (!delegated) {
      if (!limited) return cg;
      return fail(ErrorKind::kUnsupported,
                  std::string("cgroup limits need a delegated cgroup v2 hierarchy: running "
                              "rootless, and ") +
                      (l == Layout::kUnified ? own + " is not writable by this user"
                                             : "this host has no unified cgroup v2 hierarchy") +
                      " (run without --memory, --pids-limit and --cpus, or as root)");
    }
  }
  bool v2 = l == Layout::kUnified;
  if (v2) {
    // Controllers must be enabled from the root down to the parent of the leaf.
    std::string base = v2_base();
    std::string parent = base + "/imgbuild";
    if (::mkdir(parent.c_str(), 0755) < 0 && errno != EEXIST) return fail_errno("mkdir", parent);
    for (const std::string& dir : {base, parent}) {
      for (const char* c : {"+memory", "+pids", "+cpu"}) {
        auto st = write_file(dir, "cgroup.subtree_control", c);
        bool needed = (c[1] == 'm' && r.memory_bytes) || (c[1] == 'p' && r.pids_limit) ||
                      (c[1] == 'c' && r.cpus);
        if (!st && needed) return fail(st.error());
      }
    }
  }
  for (const std::string& dir : hierarchy_dirs(name, &r, l)) {
    TRY(fs::make_dirs(dir.substr(0, dir.rfind('/'))));
    if (::mkdir(dir.c_str(), 0755) < 0) return fail_errno("mkdir", dir);
    cg.dirs_.push_back(dir);
    if (l != Layout::kLegacy && cg.dirs_.size() == 1) {
      cg.clone_fd_ = TRY(sys::open(dir, O_RDONLY | O_DIRECTORY));
      if (l == Layout::kHybrid) continue;  // no controllers there: nothing to set
    }
    std::string hierarchy = v2 ? "" : dir.substr(std::string(kCgroupRoot).size() + 1);
    hierarchy = hierarchy.substr(0, hierarchy.find('/'));
    if (r.memory_bytes && (v2 || hierarchy == "memory")) {
      std::string limit = std::to_string(*r.memory_bytes);
      if (v2) {
        TRY(write_file(dir, "memory.max", limit));
        if (fs::exists(dir + "/memory.swap.max")) TRY(write_file(dir, "memory.swap.max", limit));
      } else {
        TRY(write_file(dir, "memory.limit_in_bytes", limit));
        if (fs::exists(dir + "/memory.memsw.limit_in_bytes")) {
          TRY(write_file(dir, "memory.memsw.limit_in_bytes", std::to_string(*r.memory_bytes * 2)));
        }
      }
    }
    if (r.pids_limit && (v2 || hierarchy == "pids")) {
      std::string v = *r.pids_limit <= 0 ? "max" : std::to_string(*r.pids_limit);
      TRY(write_file(dir, "pids.max", v));
    }
    if (r.cpus && (v2 || hierarchy == "cpu")) {
      long quota = std::lround(*r.cpus * 100000.0);
      if (v2) {
        TRY(write_file(dir, "cpu.max", std::to_string(quota) + " 100000"));
      } else {
        TRY(write_file(dir, "cpu.cfs_period_us", "100000"));
        TRY(write_file(dir, "cpu.cfs_quota_us", std::to_string(quota)));
      }
    }
  }
  TRY_CTX(cg.apply_device_policy(name, static_cast<int>(l)), "device policy");
  return cg;
}

Status Cgroup::apply_device_policy(const std::string& name, int layout_value) {
  auto l = static_cast<Layout>(layout_value);
  Status attached = fail(ErrorKind::kUnsupported, "no cgroup v2 directory");
  if (clone_fd_) attached = attach_device_program(clone_fd_.get());
  if (attached) return {};
  std::string mount = std::string(kCgroupRoot) + "/devices";
  if (l != Layout::kUnified && fs::is_dir(mount)) {
    std::string own = own_path("devices");
    if (own == "/") own.clear();
    std::string dir = mount + own + "/imgbuild/" + name;
    TRY(fs::make_dirs(dir.substr(0, dir.rfind('/'))));
    if (::mkdir(dir.c_str(), 0755) < 0) return fail_errno("mkdir", dir);
    dirs_.push_back(dir);
    return write_v1_device_rules(dir);
  }
  // In a user namespace the kernel already refuses mknod and honours no device node on the
  // mounts made there; the program cannot be loaded either.
  if (in_user_namespace()) return {};
  return fail(attached.error());
}

Status Cgroup::add(pid_t pid, bool cloned_into) const {
  for (size_t i = 0; i < dirs_.size(); ++i) {
    if (cloned_into && i == 0 && clone_fd_) continue;
    TRY(write_file(dirs_[i], "cgroup.procs", std::to_string(pid)));
  }
  return {};
}

void Cgroup::remove() {
  for (const auto& dir : dirs_) {
    // Tasks killed together with the container's pid 1 may still be exiting: retry briefly.
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  dirs_.clear();
  clone_fd_.reset();
}

Status Cgroup::join(pid_t member, pid_t pid) {
  std::string file = "/proc/" + std::to_string(member) + "/cgroup";
  std::string text = TRY(fs::read_file(file));
  Layout l = layout();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (path.find("/imgbuild/") == std::string::npos) continue;
    std::string mount;
    if (line.starts_with("0::")) {
      mount =
          l == Layout::kUnified ? std::string(kCgroupRoot) : std::string(kCgroupRoot) + "/unified";
    } else {
      if (controllers.starts_with("name=")) continue;
      mount = std::string(kCgroupRoot) + "/" + controllers;
    }
    if (!fs::is_dir(mount + path)) continue;
    TRY(write_file(mount + path, "cgroup.procs", std::to_string(pid)));
  }
  return {};
}

void Cgroup::remove_stale(const std::string& name) {
  Cgroup cg;
  for (const auto& dir : hierarchy_dirs(name, nullptr, layout())) {
    if (!fs::is_dir(dir)) continue;
    if (auto procs = fs::read_file(dir + "/cgroup.procs")) {
      size_t pos = 0;
      while (pos < procs->size()) {
        size_t end = procs->find('\n', pos);
        if (end == std::string::npos) end = procs->size();
        pid_t pid = static_cast<pid_t>(std::atol(procs->substr(pos, end - pos).c_str()));
        if (pid > 0) ::kill(pid, SIGKILL);
        pos = end + 1;
      }
    }
    cg.dirs_.push_back(dir);
  }
  cg.remove();
}

}  // namespace imgbuild::runtime
