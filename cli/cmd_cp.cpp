// imgbuild cp [-L] CONTAINER:SRC_PATH DEST_PATH|-
// imgbuild cp [-L] SRC_PATH|- CONTAINER:DEST_PATH
// Copies files between a container (running or stopped) and the host, as `docker cp`: a
// directory is copied recursively; DEST an existing directory receives SRC under its own name,
// otherwise SRC is copied as DEST; "-" is a tar stream on stdout (from a container) or stdin (into
// a container directory). Symlinks are copied as links; -L follows SRC itself when it is one.
// Container paths are resolved in a process chrooted into the container's root
// (containers/root_copy.h), so no symlink in the image leads to the host's files. A stopped
// container's root is mounted for the copy and unmounted afterwards.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <optional>

#include "base/fs.h"
#include "base/sys.h"
#include "cli/command.h"
#include "cli/container_state.h"
#include "containers/launch.h"
#include "containers/root_copy.h"
#include "fs/mount.h"
#include "fs/server.h"
#include "runtime/safe_path.h"

namespace imgbuild::cli {
namespace {

struct CpArgs {
  bool follow = false;
  std::string src, dest;
};

struct ContainerPath {
  std::string container, path;
};

// Docker's rule: "NAME:PATH" when the part before the first ':' is not empty and holds no '/'
// (so "./a:b" and "/x:y" are host paths).
std::optional<ContainerPath> split_container_path(const std::string& arg) {
  size_t colon = arg.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string name = arg.substr(0, colon);
  if (name.find('/') != std::string::npos || name[0] == '.') return std::nullopt;
  std::string path = arg.substr(colon + 1);
  if (path.empty() || path[0] != '/') path = "/" + path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return ContainerPath{name, path};
}

std::string base_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return name.empty() ? "." : name;
}

std::string dir_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The container's root, mounted for as long as this lives (already mounted while it runs).
class RootAccess {
 public:
  static Result<RootAccess> open(const image::Store& store, const ContainerRecord& record) {
    RootAccess access;
    access.path_ = container_rootfs(store, record.id);
    if (!is_running(record)) {
      // A server process, not an in-process mount: the copy forks, and a forked child of a
      // process with FUSE threads could inherit a held allocator lock.
      auto options = TRY(containers::container_mount_options(store, record));
      access.server_ = TRY_CTX(fs::serve_in_background(access.path_, options),
                               "mounting the container's root filesystem");
    }
    return access;
  }
  RootAccess(RootAccess&& o) noexcept
      : path_(std::move(o.path_)), server_(std::exchange(o.server_, 0)) {}
  ~RootAccess() {
    if (server_ <= 0) return;
    if (::umount2(path_.c_str(), 0) < 0) (void)fs::force_unmount(path_);
    (void)sys::wait_pid(server_);
  }
  const std::string& path() const { return path_; }

 private:
  RootAccess() = default;
  std::string path_;
  pid_t server_ = 0;
};

// Runs producer (writing a tar to the pipe) in a child process while consumer reads it here.
Status pipe_copy(const std::function<Status(int)>& producer,
                 const std::function<Status(int)>& consumer) {
  auto [r, w] = TRY(sys::pipe2(0, "cp"));
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork", "cp");
  if (pid == 0) {
    r.reset();
    auto st = producer(w.get());
    if (!st) report_error(st.error());
    ::_exit(st ? 0 : 1);
  }
  w.reset();
  Status consumed = consumer(r.get());
  r.reset();
  int status = TRY(sys::wait_pid(pid));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail(ErrorKind::kIo, "copy failed");  // the producer has printed why
  }
  return consumed;
}

containers::FollowLink follow_of(const CpArgs& a) {
  return a.follow ? containers::FollowLink::kYes : containers::FollowLink::kNo;
}

Status copy_out(const image::Store& store, const ContainerPath& from, const CpArgs& a) {
  ContainerRecord record = TRY(find_record(store, from.container));
  RootAccess root = TRY(RootAccess::open(store, record));
  std::string name = base_name(from.path);
  if (a.dest == "-") {
    return containers::tar_from_root(root.path(), from.path, name, follow_of(a), 1);
  }
  std::string dir = fs::absolute(a.dest);
  if (!fs::is_dir(dir)) {
    name = base_name(dir);
    dir = dir_name(dir);
    if (!fs::is_dir(dir)) {
      return fail(ErrorKind::kNotFound,
                  "invalid output path: directory \"" + dir + "\" does not exist");
    }
  }
  return pipe_copy(
      [&](int fd) {
        return containers::tar_from_root(root.path(), from.path, name, follow_of(a), fd);
      },
      [&](int fd) { return containers::untar_into_root("/", dir, fd); });
}

Status copy_in(const image::Store& store, const ContainerPath& to, const CpArgs& a) {
  ContainerRecord record = TRY(find_record(store, to.container));
  RootAccess root = TRY(RootAccess::open(store, record));
  if (a.src == "-") return containers::untar_into_root(root.path(), to.path, 0);
  std::string src = fs::absolute(a.src);
  struct stat st {};
  if (::lstat(src.c_str(), &st) < 0) {
    return fail(ErrorKind::kNotFound, "stat " + src + ": no such file or directory");
  }
  // Whether DEST is an existing directory, resolved inside the root (never on the host).
  UniqueFd rootfd = TRY(sys::open(root.path(), O_PATH | O_DIRECTORY));
  std::string dir = to.path, name = base_name(src);
  if (!runtime::open_in_root(rootfd.get(), runtime::clean_relative(to.path),
                             O_PATH | O_DIRECTORY)) {
    dir = dir_name(to.path);
    name = base_name(to.path);
  }
  rootfd.reset();
  return pipe_copy(
      [&](int fd) { return containers::tar_from_root("/", src, name, follow_of(a), fd); },
      [&](int fd) { return containers::untar_into_root(root.path(), dir, fd); });
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto args = std::make_shared<CpArgs>();
  sub.add_flag("-L,--follow-link", args->follow, "Follow a symbolic link in SRC_PATH");
  sub.add_option("SRC", args->src, "CONTAINER:SRC_PATH, SRC_PATH or -")->required();
  sub.add_option("DEST", args->dest, "CONTAINER:DEST_PATH, DEST_PATH or -")->required();
  return [args, &globals]() -> int {
    auto from = split_container_path(args->src);
    auto to = split_container_path(args->dest);
    if (from.has_value() == to.has_value()) {
      return report_error(
          Error(ErrorKind::kInvalidArgument, from ? "copying between containers is not supported"
                                                  : "must specify at least one container source"));
    }
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    Status st = from ? copy_out(*store, *from, *args) : copy_in(*store, *to, *args);
    if (!st) return report_error(st.error());
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(cp, Command{
                         .name = "cp",
                         .description = "Copy files between a container and the local filesystem",
                         .setup = setup,
                     });

}  // namespace imgbuild::cli
