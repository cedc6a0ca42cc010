#include "fs/mount.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fuse.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "base/fs.h"
#include "base/log.h"
#include "base/sys.h"
#include "fs/fuse_ops.h"
#include "fs/mount_table.h"
#include "fs/passthrough.h"
#include "fs/union_fs.h"
#include "fs/uring_transport.h"

namespace imgbuild::fs {

bool quiet_perror_linked();  // fs/fuse_perror.cpp

struct Mount::Impl {
  std::unique_ptr<Filesystem> fs;
  fuse_session* se = nullptr;
  std::thread loop;
  bool mounted = false;
  bool started = false;
  unsigned max_threads = 8;
  bool passthrough = true;
  bool killpriv_v2 = true;
  bool io_uring = true;
};

namespace {

fuse_lowlevel_ops make_ops() {
  fuse_lowlevel_ops ops;
  std::memset(&ops, 0, sizeof(ops));
  add_entry_ops(&ops);
  add_tree_ops(&ops);
  add_dir_ops(&ops);
  add_file_ops(&ops);
  return ops;
}

// fsname is user text and ends up in a comma-separated option string: keep it plain.
std::string clean_fsname(const std::string& name) {
  std::string out;
  for (char c : name) out += (c == ',' || c == '\\' || c == ' ') ? '_' : c;
  return out.empty() ? "imgfs" : out;
}

}  // namespace

Mount::Mount(std::string mountpoint) : mountpoint_(std::move(mountpoint)), impl_(new Impl) {}

Result<std::unique_ptr<Mount>> Mount::create_unstarted(const std::string& mountpoint,
                                                       const MountOptions& options) {
  std::string target = absolute(mountpoint);
  auto st = sys::lstat(target);
  if (!st) return fail(st.error().with_context("mount point"));
  if (!S_ISDIR(st->st_mode)) {
    return fail(ErrorKind::kInvalidArgument, "mount point " + target + " is not a directory");
  }
  // libfuse would fall back to fusermount3 and report only "Permission denied": say what it is.
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    int err = errno;
    struct stat dev {};
    std::string mode = ::stat("/dev/fuse", &dev) == 0
                           ? " (mode 0" + std::to_string((dev.st_mode >> 6) & 7) +
                                 std::to_string((dev.st_mode >> 3) & 7) +
                                 std::to_string(dev.st_mode & 7) + ")"
                           : "";
    return fail(Error::from_errno("open", "/dev/fuse", err)
                    .with_context("mounting imgfs at " + target +
                                  ": /dev/fuse is not accessible "
                                  "to this user" +
                                  mode +
                                  "; Debian's fuse3 udev rule makes it 0666 (chmod 0666 "
                                  "/dev/fuse), or run as root"));
  }
  (void)quiet_perror_linked();
  std::unique_ptr<Mount> mount(new Mount(target));
  Impl& impl = *mount->impl_;
  impl.fs = TRY(Filesystem::create(options));

  std::string opts =
      "default_permissions,fsname=" + clean_fsname(options.fsname) + ",subtype=imgfs";
  if (options.allow_other) opts += ",allow_other";
  if (options.upper.empty()) opts += ",ro";
  std::vector<std::string> argv_s = {"imgfs", "-o", opts};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  static const fuse_lowlevel_ops& ops = counting_ops(
      make_ops(), [](fuse_req_t req) -> RequestCounts& { return fs_of(req).requests; });
  impl.se = fuse_session_new(&args, &ops, sizeof(ops), impl.fs.get());
  if (!impl.se) return fail(ErrorKind::kIo, "fuse_session_new(" + target + ") failed");
  if (fuse_session_mount(impl.se, target.c_str()) != 0) {
    fuse_session_destroy(impl.se);
    impl.se = nullptr;
    return fail(ErrorKind::kIo,
                "mounting imgfs at " + target + " failed (needs root and /dev/fuse; see stderr)");
  }
  impl.mounted = true;
  impl.max_threads = options.max_threads ? options.max_threads : 8;
  impl.passthrough = options.passthrough;
  impl.killpriv_v2 = options.handle_killpriv;
  impl.io_uring = options.io_uring;
  impl.fs->fuse_fd = fuse_session_fd(impl.se);
  impl.fs->session = impl.se;
  return mount;
}

Result<std::unique_ptr<Mount>> Mount::create(const std::string& mountpoint,
                                             const MountOptions& options) {
  auto mount = TRY(create_unstarted(mountpoint, options));
  mount->start();
  return mount;
}

void Mount::start() {
  Impl& impl = *impl_;
  if (impl.started || !impl.se) return;
  impl.started = true;
  fuse_session* se = impl.se;
  Filesystem* fs = impl.fs.get();
  unsigned max_threads = impl.max_threads;
  passthrough::InitCaps want{impl.passthrough, impl.killpriv_v2, impl.io_uring};
  std::string target = mountpoint_;
  // The mount is usable from here: the kernel holds requests until the session answered INIT,
  // which the loop thread does first (as a daemonising FUSE server would).
  impl.loop = std::thread([se, fs, max_threads, want, target] {
    std::unique_ptr<UringTransport> ring;
    passthrough::InitHooks hooks;
    hooks.before_init = [&](passthrough::InitCaps& use) {
      if (use.io_uring) {
        auto made = UringTransport::create(se, max_threads, &fs->ring_requests);
        if (made) {
          ring = std::move(*made);
        } else {
          log::debug("imgfs " + target + ": no FUSE ring: " + made.error().message());
          use.io_uring = false;
        }
      }
      fs->passthrough = use.passthrough;
      fs->killpriv = use.killpriv_v2;
    };
    hooks.before_reply = [&](const passthrough::InitLimits& limits, passthrough::InitCaps& use) {
      auto st = ring->prepare(UringTransport::payload_size(limits.max_write, limits.max_pages));
      if (!st) {
        log::debug("imgfs " + target + ": no FUSE ring: " + st.error().message());
        use.io_uring = false;
      }
    };
    auto caps = passthrough::negotiate_init(se, want, hooks);
    if (!caps) {
      ring.reset();
      // The kernel has no answer to INIT: end the connection, so nothing waits on it forever.
      log::error("imgfs " + target + ": " + caps.error().message());
      (void)force_unmount(target);
      return;
    }
    if (caps->io_uring) {
      ring->start();
      fs->io_uring = true;
    } else {
      ring.reset();  // its threads end without registering
    }
    log::debug("imgfs " + target + ": passthrough " + (caps->passthrough ? "requested" : "off") +
               ", killpriv_v2 " + (caps->killpriv_v2 ? "requested" : "off") + ", transport " +
               (ring ? "io_uring (" + std::to_string(ring->queues()) + " queues x " +
                           std::to_string(ring->threads_per_queue()) + " threads)"
                     : std::string("/dev/fuse")));
    if (fs->options().on_ready) fs->options().on_ready();
    if (max_threads == 1) {
      fuse_session_loop(se);
    } else {
      fuse_loop_config* cfg = fuse_loop_cfg_create();
      fuse_loop_cfg_set_max_threads(cfg, max_threads);
      fuse_loop_cfg_set_idle_threads(cfg, max_threads);
      fuse_session_loop_mt(se, cfg);
      fuse_loop_cfg_destroy(cfg);
    }
    // The connection has ended (the /dev/fuse loop saw ENODEV): the ring threads have ended or
    // are about to (their entries completed with ENOTCONN); join them before the session goes.
    ring.reset();
  });
}

void Mount::disown() {
  Impl& impl = *impl_;
  if (!impl.se || impl.started) return;
  // fuse_session_destroy closes the session fd and never unmounts (fuse_session_unmount would);
  // no INIT was seen here, so no destroy callback runs either.
  fuse_session_destroy(impl.se);
  impl.se = nullptr;
  impl.mounted = false;
  impl.fs.reset();
}

MountStats Mount::stats() const {
  if (!impl_->fs) return {};
  const Filesystem& fs = *impl_->fs;
  MountStats out;
  out.passthrough = fs.passthrough.load();
  out.killpriv = fs.killpriv.load();
  out.io_uring = fs.io_uring.load();
  out.ring_requests = fs.ring_requests.load();
  out.reads = fs.requests.get(FUSE_READ);
  out.writes = fs.requests.get(FUSE_WRITE);
  out.getxattrs = fs.requests.get(FUSE_GETXATTR);
  out.requests = fs.requests.by_name();
  out.cached_fds = fs.cached_fds();
  return out;
}

void Mount::wait() {
  if (impl_->loop.joinable()) impl_->loop.join();
}

Status Mount::unmount() {
  Impl& impl = *impl_;
  if (!impl.se) return {};
  if (impl.mounted) {
    if (impl.loop.joinable() && ::umount2(mountpoint_.c_str(), 0) < 0 && errno != EINVAL) {
      return fail_errno("umount", mountpoint_);
    }
    impl.mounted = false;
  }
  // The kernel ends the connection when the superblock goes away; the loop then returns.
  wait();
  end_session();
  return {};
}

void Mount::end_session() {
  Impl& impl = *impl_;
  // The layers first (node and handle fds, the layer roots), then /dev/fuse, which holds the
  // backing files of passthrough opens: once this returns nothing keeps a layer busy.
  impl.fs.reset();
  fuse_session_unmount(impl.se);
  fuse_session_destroy(impl.se);
  impl.se = nullptr;
}

Mount::~Mount() {
  Impl& impl = *impl_;
  if (!impl.se) return;
  if (impl.mounted && impl.loop.joinable()) {
    auto dev = mounted_device(mountpoint_);
    if (::umount2(mountpoint_.c_str(), 0) < 0) {
      // Busy: detach it from the namespace and end the connection, so the loop returns even
      // while processes still hold files in it (they get ENOTCONN).
      ::umount2(mountpoint_.c_str(), MNT_DETACH);
      if (dev) abort_fuse_connection(*dev);
    }
  }
  impl.mounted = false;
  wait();
  end_session();
}

Status force_unmount(const std::string& mountpoint) {
  std::string target = absolute(mountpoint);
  auto dev = mounted_device(target);
  if (!dev) return fail(ErrorKind::kNotFound, "nothing is mounted at " + target);
  if (::umount2(target.c_str(), 0) == 0) return {};
  int err = errno;
  if (err != EBUSY && err != ENOTCONN && err != EIO) return fail_errno("umount", target, err);
  if (::umount2(target.c_str(), MNT_DETACH) < 0) return fail_errno("umount", target);
  abort_fuse_connection(*dev);
  return {};
}

}  // namespace imgbuild::fs
