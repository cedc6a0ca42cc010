#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/sys.h"
#include "builder/step_runner.h"
#include "fs/mount.h"
#include "runtime/user.h"

namespace imgbuild::builder {

Result<int> ContainerStepRunner::run(const RunRequest& request) {
  fs::TempDir where = TRY(store_.make_staging_dir("run"));
  std::string rootfs = fs::join(where.path(), "rootfs");
  std::string etc = fs::join(where.path(), "etc");
  TRY(sys::mkdir_at(AT_FDCWD, rootfs, 0755));
  TRY(sys::mkdir_at(AT_FDCWD, etc, 0755));
  fs::MountOptions options;
  options.lowers = request.lowers;
  options.upper = request.upper;
  options.fsname = "imgbuild-run";
  auto mount = TRY_CTX(fs::Mount::create(rootfs, options), "mounting the build step's rootfs");

  runtime::ProcessSpec spec;
  spec.args = request.args;
  spec.env = request.env;
  spec.cwd = request.cwd.empty() ? "/" : request.cwd;
  auto user = TRY(runtime::resolve_user(rootfs, request.user));
  spec.uid = user.uid;
  spec.gid = user.gid;
  spec.additional_gids = user.additional_gids;
  spec.hostname = "buildkitsandbox";
  spec.network = request.network;
  spec.mounts = request.mounts;
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
    ssize_t n = ::read(read_end.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (request.output) request.output(std::string_view(buf, static_cast<size_t>(n)));
  }
  int code = TRY(container->wait());
  // Flush writeback-cached data into the upper before unmounting, so nothing is lost if the
  // unmount has to fall back to a lazy detach.
  if (int fd = ::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    (void)::syncfs(fd);
    ::close(fd);
  }
  // The dying container's mount namespace can pin the mount for a while after its last process
  // exited (namespace teardown is asynchronous). The data is already flushed, so after a short
  // wait a lazy detach (the Mount destructor) is safe.
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto unmounted = mount->unmount();
    if (unmounted) break;
    if (unmounted.error().errno_value() != EBUSY) {
      return std::unexpected(unmounted.error().with_context("unmounting the build step's rootfs"));
    }
    ::usleep(20000);
  }
  mount.reset();
  return code;
}

}  // namespace imgbuild::builder
