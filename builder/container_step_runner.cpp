#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "base/fs.h"
#include "base/log.h"
#include "base/sys.h"
#include "builder/step_runner.h"
#include "builder/unchanged_dirs.h"
#include "fs/mount.h"
#include "runtime/user.h"

namespace imgbuild::builder {

namespace {

// BuildKit's RUN differs from `docker run` here: a numeric "uid:gid" USER gets no supplementary
// groups at all, and any other (no USER is "root") only its /etc/group memberships, without the
// primary gid that runtime::resolve_user puts first.
std::vector<uint32_t> buildkit_additional_gids(const std::string& user_spec,
                                               const runtime::ResolvedUser& user) {
  bool numeric = user_spec.find(':') != std::string::npos &&
                 user_spec.find_first_not_of("0123456789:") == std::string::npos;
  if (numeric) return {};
  std::vector<uint32_t> gids = user.additional_gids;
  if (!gids.empty() && gids.front() == user.gid) gids.erase(gids.begin());
  return gids;
}

// BuildKit's RUN leaves /dev, /proc, /sys and /etc (where it binds hosts and resolv.conf) in the
// layer as empty 0755 directories when the image has none (its runtime creates them as mount
// points and never removes them); the runtime here removes the stubs it makes, which is right for
// `imgbuild run` but not for builds, whose layers (and digests) should match BuildKit's. Creating
// them up front keeps them.
Status keep_system_mount_points(const std::string& rootfs) {
  for (const char* name : {"dev", "proc", "sys", "etc"}) {
    std::string path = fs::join(rootfs, name);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) continue;
    if (errno != ENOENT) return fail_errno("lstat", path);
    if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) return fail_errno("mkdir", path);
    if (::chmod(path.c_str(), 0755) < 0) return fail_errno("chmod", path);
  }
  return {};
}

}  // namespace

Result<int> ContainerStepRunner::run(const RunRequest& request) {
  fs::TempDir where = TRY(store_.make_staging_dir("run"));
  std::string rootfs = fs::join(where.path(), "rootfs");
  std::string etc = fs::join(where.path(), "etc");
  TRY(sys::mkdir_at(AT_FDCWD, rootfs, 0755));
  TRY(sys::mkdir_at(AT_FDCWD, etc, 0755));
  // imgfs takes the root's attributes from the upper when there is one, and the upper is a fresh
  // staging dir (0700 from mkdtemp): give it the image root's, or USER app could not even
  // resolve /bin/sh. The bottom layer is the one that carries the root's "./" entry (layers the
  // builder commits have none; their directories are left 0755).
  {
    mode_t mode = 0755;
    uid_t uid = 0;
    gid_t gid = 0;
    if (!request.lowers.empty()) {
      auto st = TRY(sys::lstat(request.lowers.back()));
      mode = st.st_mode & 07777;
      uid = st.st_uid;
      gid = st.st_gid;
    }
    if (::chown(request.upper.c_str(), uid, gid) < 0) return fail_errno("chown", request.upper);
    if (::chmod(request.upper.c_str(), mode) < 0) return fail_errno("chmod", request.upper);
  }
  fs::MountOptions options;
  options.lowers = request.lowers;
  options.upper = request.upper;
  options.fsname = "imgbuild-run";
  auto t0 = std::chrono::steady_clock::now();
  auto mount = TRY_CTX(fs::Mount::create(rootfs, options), "mounting the build step's rootfs");
  auto t_mounted = std::chrono::steady_clock::now();
  TRY_CTX(keep_system_mount_points(rootfs), "creating the build step's mount points");

  runtime::ProcessSpec spec;
  spec.args = request.args;
  spec.env = request.env;
  spec.cwd = request.cwd.empty() ? "/" : request.cwd;
  auto user = TRY(runtime::resolve_user(rootfs, request.user));
  spec.uid = user.uid;
  spec.gid = user.gid;
  // As runc under BuildKit: HOME comes from the step user's passwd entry ("/" without one) unless
  // the environment already has it. PATH is in the stage's config env already; HOSTNAME and TERM
  // are not set, the umask is the runtime's 0022.
  bool has_home =
      std::ranges::any_of(spec.env, [](const std::string& kv) { return kv.starts_with("HOME="); });
  if (!has_home) spec.env.push_back("HOME=" + user.home);
  if (request.user.empty()) {
    auto root = runtime::resolve_user(rootfs, "root");
    spec.additional_gids = root ? buildkit_additional_gids("root", *root) : user.additional_gids;
  } else {
    spec.additional_gids = buildkit_additional_gids(request.user, user);
  }
  spec.hostname = "buildkitsandbox";
  spec.bind_etc_hostname = false;  // as BuildKit: a RUN may change the image's /etc/hostname
  spec.network = request.network;
  spec.mounts = request.mounts;
  spec.tmpfs_mounts = request.tmpfs_mounts;
  spec.extra_hosts = options_.extra_hosts;
  spec.ulimits = options_.ulimits;
  if (options_.shm_size_bytes != 0) {
    // First, so that a RUN --mount=type=tmpfs,target=/dev/shm still wins.
    spec.tmpfs_mounts.insert(spec.tmpfs_mounts.begin(),
                             runtime::TmpfsMount{"/dev/shm", options_.shm_size_bytes});
  }
  spec.etc_dir = etc;

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return fail_errno("pipe2", "step output");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  UniqueFd null_fd(devnull);
  spec.stdin_fd = null_fd.get();
  spec.stdout_fd = write_end.get();
  spec.stderr_fd = write_end.get();
  auto container = runtime::Container::start(rootfs, spec);
  write_end.reset();
  if (!container) {
    (void)mount->unmount();
    return std::unexpected(container.error());
  }
  char buf[16384];
  while (true) {
    size_t n = sys::read_some(read_end.get(), buf, "RUN output").value_or(0);
    if (n == 0) break;
    if (request.output) request.output(std::string_view(buf, n));
  }
  int code = TRY(container->wait());
  auto t_exited = std::chrono::steady_clock::now();
  // Flush writeback-cached data into the upper before unmounting, so nothing is lost if the
  // unmount has to fall back to a lazy detach.
  if (int fd = ::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    (void)::syncfs(fd);
    ::close(fd);
  }
  // The dying container's mount namespace can pin the mount for a while after its last process
  // exited (namespace teardown is asynchronous). The data is already flushed, so after a short
  // wait a lazy detach (the Mount destructor) is safe.
  int attempt = 0;
  for (; attempt < 10; ++attempt) {
    auto unmounted = mount->unmount();
    if (unmounted) break;
    if (unmounted.error().errno_value() != EBUSY) {
      return std::unexpected(unmounted.error().with_context("unmounting the build step's rootfs"));
    }
    ::usleep(20000);
  }
  mount.reset();
  // Directories the step only passed through (e.g. /etc for its mount stubs) are no change.
  size_t dropped = TRY_CTX(drop_unchanged_dirs(request.upper, request.lowers),
                           "dropping unchanged directories from the build step's layer");
  auto ms = [](auto a, auto b) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
  };
  log::debug("RUN step: mount " + ms(t0, t_mounted) + " ms, container " + ms(t_mounted, t_exited) +
             " ms, sync+unmount " + ms(t_exited, std::chrono::steady_clock::now()) + " ms (" +
             std::to_string(attempt + 1) + " attempts), " + std::to_string(dropped) +
             " unchanged directories dropped");
  return code;
}

}  // namespace imgbuild::builder
