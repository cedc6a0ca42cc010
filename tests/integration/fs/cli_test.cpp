// `imgbuild mount` / `imgbuild umount` and the standalone `imgfs` binary, run as processes.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/subprocess.h"
#include "fs/mount_table.h"
#include "fs_fixture.h"

using namespace imgbuild;
using namespace imgbuild::fs::test;

namespace {

ProcessResult run(const std::vector<std::string>& argv) {
  auto r = run_process(argv);
  REQUIRE(r);
  return *r;
}

ProcessResult imgbuild_cmd(const std::string& root, std::vector<std::string> args) {
  args.insert(args.begin(), {IMGBUILD_BINARY, "--root", root});
  return run(args);
}

bool mounted(const std::string& path) { return fs::mounted_device(path).has_value(); }

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// Unmounts whatever a failed test left behind.
struct MountGuard {
  std::string path;
  ~MountGuard() {
    if (mounted(path)) {
      std::string cmd = "umount -l '" + path + "' 2>/dev/null";
      [[maybe_unused]] int rc = std::system(cmd.c_str());
    }
  }
};

}  // namespace

TEST_CASE("imgbuild mount, list, write, umount; killed servers can be cleaned",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f(1);
  std::string root = f.root() + "/store";
  write(f.lower(0) + "/etc/hostname", "box\n");
  write(f.lower(0) + "/bin/tool", "#!/bin/sh\n", 0755);
  sh("tar -C " + f.lower(0) + " -cf " + f.root() + "/rootfs.tar .");
  auto imp = imgbuild_cmd(root, {"import", f.root() + "/rootfs.tar", "app:1"});
  INFO(imp.err);
  REQUIRE(imp.exit_code == 0);
  MountGuard guard{f.mnt()};

  SECTION("read-only by default, listed, protected, unmounted") {
    auto m = imgbuild_cmd(root, {"mount", "app:1", f.mnt()});
    INFO(m.err);
    REQUIRE(m.exit_code == 0);
    CHECK(mounted(f.mnt()));
    CHECK(read(f.m("etc/hostname")) == "box\n");
    CHECK(::mkdir(f.m("x").c_str(), 0755) == -1);
    CHECK(errno == EROFS);
    auto list = imgbuild_cmd(root, {"mount"});
    CHECK(list.exit_code == 0);
    CHECK(list.out.find(f.mnt()) != std::string::npos);
    CHECK(list.out.find("app:1") != std::string::npos);
    // The mount is a GC root: untagging and pruning keeps the image's layers.
    imgbuild_cmd(root, {"rmi", "app:1"});
    auto prune = imgbuild_cmd(root, {"prune", "-f"});
    INFO(prune.err);
    CHECK(prune.exit_code == 0);
    CHECK_FALSE(snapshot(root + "/layers/sha256").empty());
    CHECK(read(f.m("etc/hostname")) == "box\n");
    auto again = imgbuild_cmd(root, {"mount", "app:1", f.mnt()});
    CHECK(again.exit_code == 1);
    CHECK(again.err == "imgbuild: mount: something is already mounted at " + f.mnt() + "\n");
    auto um = imgbuild_cmd(root, {"umount", f.mnt()});
    INFO(um.err);
    CHECK(um.exit_code == 0);
    CHECK_FALSE(mounted(f.mnt()));
    list = imgbuild_cmd(root, {"mount"});
    CHECK(list.out.find(f.mnt()) == std::string::npos);
    auto none = imgbuild_cmd(root, {"umount", f.mnt()});
    CHECK(none.exit_code == 1);
    CHECK(none.err == "imgbuild: umount: nothing is mounted at " + f.mnt() + "\n");
  }

  SECTION("--upper keeps the changes as an OCI layer") {
    std::string upper = f.root() + "/changes";
    auto m = imgbuild_cmd(root, {"mount", "--upper", upper, "app:1", f.mnt()});
    INFO(m.err);
    REQUIRE(m.exit_code == 0);
    write(f.m("new"), "n");
    REQUIRE(::unlink(f.m("bin/tool").c_str()) == 0);
    CHECK(imgbuild_cmd(root, {"umount", f.mnt()}).exit_code == 0);
    CHECK(read(upper + "/new") == "n");
    struct stat st;
    CHECK(::lstat((upper + "/bin/.wh.tool").c_str(), &st) == 0);
  }

  SECTION("a killed server leaves a mount umount can clean up") {
    auto m = imgbuild_cmd(root, {"mount", "--rw", "app:1", f.mnt()});
    REQUIRE(m.exit_code == 0);
    auto pids = run({"sh", "-c", "pgrep -f 'imgbuild --root " + root + " mount' | head -1"});
    pid_t pid = static_cast<pid_t>(std::atoi(pids.out.c_str()));
    REQUIRE(pid > 0);
    REQUIRE(::kill(pid, SIGKILL) == 0);
    for (int i = 0; i < 100 && alive(pid); ++i) ::usleep(20000);
    struct stat st;
    CHECK(::stat(f.m("etc/hostname").c_str(), &st) == -1);  // ENOTCONN
    auto um = imgbuild_cmd(root, {"umount", f.mnt()});
    INFO(um.err);
    CHECK(um.exit_code == 0);
    CHECK_FALSE(mounted(f.mnt()));
  }

  SECTION("a damaged record is reported, keeps the image from prune, and umount removes it") {
    auto m = imgbuild_cmd(root, {"mount", "app:1", f.mnt()});
    INFO(m.err);
    REQUIRE(m.exit_code == 0);
    auto names = fs::list_dir(root + "/mounts", fs::MissingDir::kIsError);
    REQUIRE(names);
    std::vector<std::string> records;  // beside each record: the server's log
    for (const auto& n : *names) {
      if (n.ends_with(".json")) records.push_back(n);
    }
    REQUIRE(records.size() == 1);
    CHECK(std::ranges::count(*names,
                             records.front().substr(0, records.front().size() - 5) + ".log") == 1);
    std::string record = root + "/mounts/" + records.front();
    REQUIRE(fs::write_file_atomic(record, "{\"manifests\": ["));
    const std::string damaged = "mount record " + record +
                                ": [json.exception.parse_error.101] parse error at line 1, column "
                                "16: syntax error while parsing value - unexpected end of input; "
                                "expected '[', '{', or a literal";
    auto list = imgbuild_cmd(root, {"mount"});
    CHECK(list.exit_code == 1);
    CHECK(list.err ==
          "imgbuild: mount: unreadable record (its image is kept from prune; imgbuild umount "
          "MOUNTPOINT or deleting the file removes it): " +
              damaged + "\n");
    CHECK(fs::exists(record));
    imgbuild_cmd(root, {"rmi", "app:1"});
    auto prune = imgbuild_cmd(root, {"prune", "-f"});
    CHECK(prune.exit_code != 0);
    CHECK(prune.err.find(record) != std::string::npos);
    CHECK(read(f.m("etc/hostname")) == "box\n");
    auto um = imgbuild_cmd(root, {"umount", f.mnt()});
    CHECK(um.exit_code == 0);
    CHECK(um.err == "[Warning] umount: removing unreadable " + damaged + "\n");
    CHECK_FALSE(mounted(f.mnt()));
    CHECK_FALSE(fs::exists(record));
    CHECK(fs::list_dir(root + "/mounts", fs::MissingDir::kIsError)->empty());  // the log too
    CHECK(imgbuild_cmd(root, {"mount"}).exit_code == 0);
  }

  SECTION("errors name the image") {
    // Without --pull never, a missing image is pulled (tests/integration/containers).
    auto m = imgbuild_cmd(root, {"mount", "--pull", "never", "nosuch:1", f.mnt()});
    CHECK(m.exit_code == 1);
    CHECK(m.err.find("No such image: nosuch:1") != std::string::npos);
    CHECK_FALSE(mounted(f.mnt()));
  }
}

TEST_CASE("imgfs binary: fuse-overlayfs syntax, daemonises, mount -t fuse.imgfs",
          "[integration][fs]") {
  if (!can_mount()) return;
  Fixture f;
  write(f.lower(1) + "/a", "bottom");
  write(f.lower(0) + "/b", "top");
  whiteout(f.lower(0) + "/a");
  MountGuard guard{f.mnt()};
  std::string work = f.root() + "/work";
  sh("mkdir -p " + work);
  auto r = run({imgfs_binary(), "overlay", f.mnt(), "-o",
                "rw,lazytime,lowerdir=" + f.lower(0) + ":" + f.lower(1) + ",upperdir=" + f.upper() +
                    ",workdir=" + work});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(mounted(f.mnt()));
  CHECK(read(f.m("b")) == "top");
  struct stat st;
  CHECK(::lstat(f.m("a").c_str(), &st) == -1);
  write(f.m("c"), "c");
  sh("umount " + f.mnt());
  for (int i = 0; i < 100 && run({"pgrep", "-f", f.mnt()}).exit_code == 0; ++i) ::usleep(20000);
  CHECK(run({"pgrep", "-f", f.mnt()}).exit_code == 1);  // the server exited
  CHECK(read(f.upper() + "/c") == "c");

  // Through mount(8) and mount.fuse3. With -t fuse.imgfs the helper must be "imgfs" in mount's
  // sanitised PATH (/usr/local/bin ...); tests do not install there, so they name it directly
  // with the "PROGRAM#SOURCE" form mount.fuse3 also accepts.
  auto m = run({"mount", "-t", "fuse", "-o", "lowerdir=" + f.lower(0) + ":" + f.lower(1),
                imgfs_binary() + "#imgfs", f.mnt()});
  INFO(m.err);
  REQUIRE(m.exit_code == 0);
  CHECK(read(f.m("b")) == "top");
  sh("umount " + f.mnt());

  // SIGTERM ends a server whose mount was detached (`umount -l`) while a process still uses it:
  // it has nothing to unmount, so it ends its connection itself instead of living on.
  REQUIRE(run({imgfs_binary(), f.mnt(), "-o", "lowerdir=" + f.lower(0)}).exit_code == 0);
  auto server = run({"pgrep", "-f", f.mnt()});
  REQUIRE(server.exit_code == 0);
  pid_t server_pid = std::stoi(server.out);
  std::string holder = f.root() + "/holder.pid";
  sh("(cd " + f.mnt() + " && exec sleep 60) & echo $! > " + holder);
  sh("umount -l " + f.mnt());
  CHECK(alive(server_pid));
  REQUIRE(::kill(server_pid, SIGTERM) == 0);
  for (int i = 0; i < 100 && run({"pgrep", "-f", f.mnt()}).exit_code == 0; ++i) ::usleep(20000);
  CHECK(run({"pgrep", "-f", f.mnt()}).exit_code == 1);  // exited (at most a zombie)
  sh("kill $(cat " + holder + ")");

  auto bad = run({imgfs_binary(), f.mnt(), "-o", "lowerdir=/nonexistent-imgfs-layer"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err ==
        "imgfs: lower directory /nonexistent-imgfs-layer: openat(/nonexistent-imgfs-layer): "
        "ENOENT (No such file or directory)\n");
  CHECK_FALSE(mounted(f.mnt()));
}
