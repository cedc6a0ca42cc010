#include "fs_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <numeric>

#include "base/subprocess.h"
#include "base/sys.h"
#include "tests/support/skip.h"

namespace imgbuild::fs::test {

namespace {

TempDir make_temp() {
  auto dir = TempDir::create("/tmp", "imgfs-test-");
  REQUIRE(dir);
  return std::move(*dir);
}

bool xattr_y(int fd, const char* name) {
  char v[2];
  std::string p = "/proc/self/fd/" + std::to_string(fd);
  return ::getxattr(p.c_str(), name, v, sizeof(v)) == 1 && v[0] == 'y';
}

void walk(int dirfd, const std::string& prefix, bool raw, Tree& out) {
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  DIR* d = ::fdopendir(fd);
  REQUIRE(d);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  for (const std::string& n : names) {
    struct stat st;
    std::string path = prefix.empty() ? n : prefix + "/" + n;
    INFO("listed but not found: " << path << " errno " << errno);
    REQUIRE(::fstatat(::dirfd(d), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0);
    Entry e;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    switch (st.st_mode & S_IFMT) {
      case S_IFREG: {
        e.type = 'f';
        int f = ::openat(::dirfd(d), n.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(f >= 0);
        auto data = sys::read_all(f, path);
        ::close(f);
        REQUIRE(data);
        e.data = *data;
        break;
      }
      case S_IFDIR: e.type = 'd'; break;
      case S_IFLNK: {
        e.type = 'l';
        auto t = sys::readlink_at(::dirfd(d), n);
        REQUIRE(t);
        e.data = *t;
        break;
      }
      case S_IFIFO: e.type = 'p'; break;
      case S_IFSOCK: e.type = 's'; break;
      default:
        e.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
        e.data = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
        if (raw && S_ISCHR(st.st_mode) && st.st_rdev == 0) e.type = 'w';
    }
    if (e.type == 'f' && raw && n.starts_with(".wh.")) e.data.clear();
    out[path] = e;
    if (e.type == 'd') {
      int sub = ::openat(::dirfd(d), n.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      REQUIRE(sub >= 0);
      if (raw && (xattr_y(sub, "trusted.overlay.opaque") || xattr_y(sub, "user.overlay.opaque"))) {
        out[path + "/.wh..wh..opq"] = Entry{'f', 0, 0, 0, ""};
      }
      walk(sub, path, raw, out);
      ::close(sub);
    }
  }
  ::closedir(d);
}

std::string parent_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "" : p.substr(0, slash);
}
std::string base_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}
std::string join_rel(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

void erase_subtree(Tree& t, const std::string& path, bool keep_self) {
  if (!keep_self) t.erase(path);
  std::string prefix = path.empty() ? "" : path + "/";
  for (auto it = t.lower_bound(prefix); it != t.end() && it->first.starts_with(prefix);) {
    it = t.erase(it);
  }
}

}  // namespace

Tree snapshot(const std::string& dir, bool raw) {
  Tree out;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  walk(fd, "", raw, out);
  ::close(fd);
  return out;
}

void apply_layer(Tree& base, const Tree& layer) {
  // Opaque markers and whiteouts first: they only affect what lies below this layer.
  for (const auto& [path, e] : layer) {
    std::string name = base_of(path);
    if (name == ".wh..wh..opq") {
      erase_subtree(base, parent_of(path), true);
    } else if (name.starts_with(".wh.")) {
      erase_subtree(base, join_rel(parent_of(path), name.substr(4)), false);
    } else if (e.type == 'w') {
      erase_subtree(base, path, false);
    }
  }
  for (const auto& [path, e] : layer) {
    std::string name = base_of(path);
    if (name.starts_with(".wh.") || e.type == 'w') continue;
    auto it = base.find(path);
    if (it != base.end() && (it->second.type != 'd' || e.type != 'd'))
      erase_subtree(base, path, false);
    base[path] = e;
  }
}

Tree expected_union(const std::vector<std::string>& lowers_top_first, const std::string& upper) {
  Tree t;
  for (auto it = lowers_top_first.rbegin(); it != lowers_top_first.rend(); ++it) {
    apply_layer(t, snapshot(*it, true));
  }
  if (!upper.empty()) apply_layer(t, snapshot(upper, true));
  return t;
}

std::string diff_trees(const Tree& want, const Tree& got) {
  for (const auto& [path, e] : want) {
    auto it = got.find(path);
    if (it == got.end()) return "missing " + path;
    const Entry& g = it->second;
    if (!(g == e)) {
      return "differs " + path + ": want " + std::string(1, e.type) + " " + std::to_string(e.mode) +
             " " + std::to_string(e.uid) + ":" + std::to_string(e.gid) + " [" +
             e.data.substr(0, 40) + "] got " + std::string(1, g.type) + " " +
             std::to_string(g.mode) + " " + std::to_string(g.uid) + ":" + std::to_string(g.gid) +
             " [" + g.data.substr(0, 40) + "]";
    }
  }
  for (const auto& [path, e] : got) {
    if (!want.count(path)) return "unexpected " + path;
  }
  return "";
}

void write(const std::string& path, const std::string& data, mode_t mode) {
  auto slash = path.rfind('/');
  REQUIRE(make_dirs(path.substr(0, slash)));
  auto fd = sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  REQUIRE(fd);
  REQUIRE(sys::write_all(fd->get(), data));
  REQUIRE(::fchmod(fd->get(), mode) == 0);
}

std::string read(const std::string& path) {
  auto fd = sys::open(path, O_RDONLY);
  REQUIRE(fd);
  auto data = sys::read_all(fd->get());
  REQUIRE(data);
  return *data;
}

void whiteout(const std::string& path) {
  auto slash = path.rfind('/');
  write(path.substr(0, slash) + "/.wh." + path.substr(slash + 1), "", 0);
}

void in_child(const std::function<bool()>& fn) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(fn() ? 0 : 1);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

void sh(const std::string& command) {
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
}

void to_overlay_style(const std::string& dir) {
  Tree raw = snapshot(dir, true);
  for (const auto& [path, e] : raw) {
    std::string name = base_of(path);
    std::string full = dir + "/" + path;
    if (name == ".wh..wh..opq") {
      std::string d = dir + "/" + parent_of(path);
      REQUIRE(::setxattr(d.c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);
      REQUIRE(::unlink(full.c_str()) == 0);
    } else if (name.starts_with(".wh.")) {
      REQUIRE(::unlink(full.c_str()) == 0);
      // A name that exists in the same layer is visible anyway and already hides the ones below.
      std::string target = dir + "/" + join_rel(parent_of(path), name.substr(4));
      if (raw.count(join_rel(parent_of(path), name.substr(4)))) continue;
      REQUIRE(::mknod(target.c_str(), S_IFCHR | 0600, makedev(0, 0)) == 0);
    }
  }
}

bool can_mount() {
  if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) {
    return ::imgbuild::testing::skip("imgfs integration tests need root and /dev/fuse");
  }
  return true;
}

std::string imgfs_binary() {
  std::string b = IMGBUILD_BINARY;
  return b.substr(0, b.rfind('/')) + "/imgfs";
}

std::string imgfs_mode_options() {
  const char* pt = std::getenv("IMGFS_TEST_PASSTHROUGH");
  return pt && std::string(pt) == "0" ? ",nopassthrough" : "";
}

pid_t imgfs_server_pid(const std::string& mountpoint) {
  auto r = run_process({"pgrep", "-f", "imgfs .*" + mountpoint});
  REQUIRE(r);
  return r->exit_code == 0 ? static_cast<pid_t>(std::atoi(r->out.c_str())) : -1;
}

bool wait_server_exit(const std::string& mountpoint) {
  for (int i = 0; i < 250; ++i) {
    if (imgfs_server_pid(mountpoint) < 0) return true;
    ::usleep(20000);
  }
  return false;
}

namespace {

std::vector<std::string> fd_targets(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    auto target = sys::readlink_at(AT_FDCWD, dir + "/" + e->d_name);
    out.push_back(target ? *target : "");
  }
  ::closedir(d);
  return out;
}

}  // namespace

size_t open_fd_count(pid_t pid) { return fd_targets(pid).size(); }

size_t open_fds_below(pid_t pid, const std::string& dir) {
  size_t n = 0;
  for (const std::string& target : fd_targets(pid)) n += target.starts_with(dir + "/");
  return n;
}

Fixture::Fixture(int lowers) : dir_(make_temp()), nlowers_(lowers) {
  REQUIRE(::chmod(dir_.path().c_str(), 0755) == 0);  // other uids use the mount in some tests
  for (int i = 0; i < lowers; ++i) REQUIRE(make_dirs(lower(i)));
  REQUIRE(make_dirs(upper()));
  REQUIRE(make_dirs(mnt()));
}

Fixture::~Fixture() { mount_.reset(); }

std::vector<std::string> Fixture::lowers() const {
  std::vector<std::string> out;
  for (int i = 0; i < nlowers_; ++i) out.push_back(lower(i));
  return out;
}

void Fixture::mount(bool ro, WhiteoutStyle style, std::optional<bool> passthrough) {
  MountOptions options;
  options.lowers = lowers();
  if (!ro) options.upper = upper();
  options.upper_whiteouts = style;
  // The suite runs twice: with kernel passthrough where the kernel has it (the default) and, as
  // integration_fs_writeback, with IMGFS_TEST_PASSTHROUGH=0 through the writeback cache.
  const char* pt = std::getenv("IMGFS_TEST_PASSTHROUGH");
  options.passthrough = passthrough.value_or(!(pt && std::string(pt) == "0"));
  if (adjust_options) adjust_options(options);
  auto m = Mount::create(mnt(), options);
  if (!m) FAIL(m.error().message());
  mount_ = std::move(*m);
}

void Fixture::unmount() {
  if (!mount_) return;
  auto st = mount_->unmount();
  if (!st) FAIL(st.error().message());
  mount_.reset();
}

void Fixture::check_invariant() {
  Tree shown = snapshot(mnt());
  Tree want = expected_union(lowers(), upper());
  INFO("upper applied on lowers vs mount");
  CHECK(diff_trees(want, shown) == "");
}

uint64_t request_count(const std::map<std::string, uint64_t>& requests, const std::string& op) {
  auto it = requests.find(op);
  return it == requests.end() ? 0 : it->second;
}

uint64_t request_total(const std::map<std::string, uint64_t>& requests) {
  return std::accumulate(requests.begin(), requests.end(), uint64_t{0},
                         [](uint64_t n, const auto& kv) { return n + kv.second; });
}

}  // namespace imgbuild::fs::test
